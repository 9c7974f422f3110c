"""The citizen dialogue: receiving a message, answering it step by step, limiting bursts."""
