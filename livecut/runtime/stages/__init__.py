"""The stages the worker roles run on the StageRunner, one module each."""
