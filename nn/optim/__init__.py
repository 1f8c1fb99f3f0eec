"""Optimizers, learning-rate schedules and gradient clipping (``torch.optim``'s names).

They work on ``Value`` parameters (scalar models) and ``Tensor`` parameters alike.
"""
from .algorithms import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop
from .clip import clip_grad_norm_
from .lr_scheduler import (CosineAnnealingLR, ExponentialLR, InverseTimeLR, LambdaLR, LRScheduler,
                           StepLR)
from .optimizer import Optimizer

clip_grad_norm = clip_grad_norm_

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "LRScheduler",
           "InverseTimeLR", "LambdaLR", "StepLR", "ExponentialLR", "CosineAnnealingLR",
           "clip_grad_norm_", "clip_grad_norm"]
