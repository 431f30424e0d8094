"""zazacli: the command line for the ZazaVoice voice-AI calling API."""

__version__ = "0.1.0"
