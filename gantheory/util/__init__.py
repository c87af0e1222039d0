"""Helpers every part of the toolkit uses, one place each: random streams (:mod:`.rng`), files
and digests (:mod:`.io`), the command lines' shared pieces (:mod:`.cli`), versions (:mod:`.versions`)."""
