"""The one error type of the remix: its message names the input or field and says what to do."""


class RemixError(RuntimeError):
    """An input, an option or an ffmpeg step of the remix failed; the message says which and why."""
