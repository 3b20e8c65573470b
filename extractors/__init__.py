"""One module per dimension, each applying rules/<dimension>.yaml."""
