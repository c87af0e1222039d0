"""The GAN objective and its update rule, the one piece every trainer of the toolkit shares.

:mod:`.losses` holds D's loss and the generator losses (all from logits); :mod:`.step` the
discriminator step, the generator step and :func:`~.step.gan_step` (Algorithm 1 and the
simultaneous variant), which the 1-D trainer and the MNIST trainer both call.
"""

from .losses import GENERATOR_LOSSES, GeneratorLoss, discriminator_loss, generator_loss
from .step import UpdateOrder, discriminator_step, gan_step, generator_step

__all__ = ["GENERATOR_LOSSES", "GeneratorLoss", "discriminator_loss", "generator_loss",
           "UpdateOrder", "discriminator_step", "gan_step", "generator_step"]
