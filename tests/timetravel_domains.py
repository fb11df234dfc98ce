"""Domains for the time-travel tests: a bank whose accounts projection code changed, and a
tiny domain whose one event type has two schema versions (with an upcaster)."""

from __future__ import annotations

from typing import Any, ClassVar

from incident_core.domain import Aggregate, Command, Decision, Domain, Event, State
from incident_core.envelope import RecordedEvent
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.bank.accounts import AccountOpened, MoneyDeposited
from incident_core.examples.bank.projections import AccountRow, transfers
from incident_core.projections import Projection

# -- the bank with changed projection code: deposits count double, nothing else moves -----
doubled_accounts = Projection("bank_accounts", AccountRow)


@doubled_accounts.on(AccountOpened)
def opened(row: AccountRow | None, event: AccountOpened, recorded: RecordedEvent) -> AccountRow:
    return AccountRow(aggregate_id=recorded.aggregate_id, account_number=event.account_number,
                      balance=0, version=recorded.version, event_id=recorded.event_id,
                      event_date=recorded.recorded_at)


@doubled_accounts.on(MoneyDeposited)
def deposited(row: AccountRow | None, event: MoneyDeposited,
              recorded: RecordedEvent) -> AccountRow | None:
    if row is None:
        return None
    return row.model_copy(update={"balance": row.balance + 2 * event.amount})


changed_bank = Domain("bank", aggregates=list(bank_domain.aggregates.values()),
                      projections=[doubled_accounts, transfers],
                      process_managers=list(bank_domain.process_managers.values()),
                      public_commands=None)


# -- a note-taking domain, version 1 then version 2 of `NoteWritten` ----------------------
class WriteNote(Command):
    text: str


class NoteState(State):
    notes: int = 0


def _notes(version: int) -> tuple[Domain, type[Event]]:
    class NoteWritten(Event):
        schema_version: ClassVar[int] = version
        text: str
        if version == 2:
            words: int

    notes = Aggregate("note", NoteState())

    @notes.executes(WriteNote)
    def write(state: NoteState, cmd: WriteNote) -> Decision:
        if version == 1:
            return [NoteWritten(text=cmd.text)]
        return [NoteWritten(text=cmd.text, words=len(cmd.text.split()))]  # type: ignore[call-arg]

    @notes.applies(NoteWritten)
    def written(state: NoteState, event: NoteWritten) -> NoteState:
        return NoteState(notes=state.notes + 1)

    if version == 2:
        @notes.upcasts(NoteWritten, from_version=1)
        def count_words(data: dict[str, Any]) -> dict[str, Any]:
            return {**data, "words": len(data["text"].split())}
    return Domain("notes", aggregates=[notes]), NoteWritten


notes_v1, NoteWrittenV1 = _notes(1)
notes_v2, NoteWrittenV2 = _notes(2)
