"""Running worlds: one run (:mod:`.simulate`), where an experiment's runs execute
(:mod:`.executors`: in-process or Dask) and their provenance (:mod:`.manifest`)."""
