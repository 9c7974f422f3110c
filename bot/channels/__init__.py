"""Channel adapters: verify, translate to Incoming, hand to the handlers, send from the outbox."""
