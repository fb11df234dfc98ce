"""Example domains: the bank (reference) and a small library-lending domain."""
