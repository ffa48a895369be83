"""Reading what runs wrote: one run's tables (:mod:`.run`), an experiment's folder
(:mod:`.store`) and SQL over all of it (:mod:`.query`)."""
