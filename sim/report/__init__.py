"""The experiment report: page assembly around each study's section."""
