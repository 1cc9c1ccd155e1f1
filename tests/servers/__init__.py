"""Real servers the scale-out tests start on 127.0.0.1 (free ports) and stop again."""
