"""1-D GANs batched over seeds: the networks (:mod:`.nets`) and the trainer (:mod:`.train`).

S independent models are held as stacked weights, so seed s of a batched run is the single run
with seed s; the claims about training (saturation, convergence, k_steps, global_optimum) use it.
"""
