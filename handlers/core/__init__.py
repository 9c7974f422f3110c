"""What every capability shares: the messages between channels and logic, the catalogue of
texts, labels, normalisation, business days, the case policy and the ports."""
