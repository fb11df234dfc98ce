"""The inspector and the domain a store belongs to: a store of another domain, and a
projection whose row model changed since its table was made (offered a rebuild)."""

from __future__ import annotations

from uuid import uuid4

from PySide6.QtWidgets import QMessageBox, QPushButton

from incident_core.engine.binding import open_application
from incident_core.examples import shipping
from tests.shipping_data import book, register_vessel

SHIPPING = "incident_core.examples.shipping:domain"
CHANGED = "tests.shipping_variants:changed_rows"


def shipping_store(tmp_path) -> str:
    target = str(tmp_path / "cargo.sqlite3")
    with open_application(target, shipping.domain, module=SHIPPING, create=True).app as app:
        app.dispatch(register_vessel())
        app.dispatch(book(str(uuid4())))
    return target


def test_without_a_domain_the_inspector_opens_the_recorded_one(make_window, tmp_path):
    window = make_window(shipping_store(tmp_path))
    assert window.session.app.domain.name == "shipping"
    assert window.session.warnings == [] and window.session.stale == []
    window.close()


def test_another_domain_reads_with_a_warning_and_cannot_write(make_window, tmp_path, qtbot,
                                                             monkeypatch):
    target = shipping_store(tmp_path)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: 0)  # the "cannot open" report
    refused = make_window(target, domain="incident_core.examples.bank:domain")
    assert refused.session is None
    window = make_window(target, read_only=True, domain="incident_core.examples.bank:domain")
    assert window.session is not None and window.session.read_only
    assert "belongs to domain 'shipping'" in window.status.currentMessage()
    refused.close()
    window.close()


def test_a_changed_row_model_is_offered_a_rebuild(make_window, tmp_path, qtbot):
    target = shipping_store(tmp_path)
    window = make_window(target, read_only=True, domain=CHANGED)
    assert window.session.stale == ["vessel_capacity"]
    box = window.findChild(QMessageBox, "staleProjections")
    assert box is not None and "vessel_capacity" in box.text()
    box.findChild(QPushButton, "rebuildStale").click()
    qtbot.waitUntil(lambda: window.session is not None and not window.session.read_only)
    assert window.session.stale == []
    [row] = window.session.app.store.projection_rows(
        window.session.app.domain.projections["vessel_capacity"].spec)
    assert row["speed_knots"] == 21.5
    window.close()
