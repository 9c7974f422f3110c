"""Classification: what a text is about (type, topic, urgency) and how sure the model is."""
