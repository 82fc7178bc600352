"""segport: export segments of customer profiles into Brevo (Sendinblue) contact lists."""

__version__ = "0.1.0"
