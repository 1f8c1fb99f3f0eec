"""A learner's own engine, as a student writes it after micrograd's lecture, in variants: the
right one and one per classic bug. The tests of "bring your own Value" run chainrule's checks,
pictures and traces on these classes (written for the tests; nothing of chainrule is used)."""
from __future__ import annotations

import math

BUGS = ("overwrite", "dropped_local", "order", "no_visited", "sign", "forward", "no_seed",
        "unset_backward")


def make_value_class(bug: str | None = None, prev_type: type = set) -> type:
    """A micrograd-style ``Value`` class; ``bug`` names the one slip it makes (None: right)."""
    if bug is not None and bug not in BUGS:
        raise ValueError(bug)

    class LearnerValue:
        def __init__(self, data, _children=(), _op="", label=""):
            self.data = data
            self.grad = 0.0
            self._backward = lambda: None
            self._prev = prev_type(_children)
            self._op = _op
            self.label = label

        def __repr__(self):
            return f"LearnerValue(data={self.data})"

        def __add__(self, other):
            other = other if isinstance(other, LearnerValue) else LearnerValue(other)
            out = LearnerValue(self.data + other.data, (self, other), "+")

            def _backward():
                if bug == "overwrite":
                    self.grad = out.grad
                    other.grad = out.grad
                else:
                    self.grad += out.grad
                    other.grad += out.grad
            out._backward = _backward
            return out

        def __mul__(self, other):
            other = other if isinstance(other, LearnerValue) else LearnerValue(other)
            out = LearnerValue(self.data * other.data, (self, other), "*")

            def _backward():
                if bug == "dropped_local":
                    self.grad += out.grad
                    other.grad += out.grad
                elif bug == "overwrite":
                    self.grad = other.data * out.grad
                    other.grad = self.data * out.grad
                else:
                    self.grad += other.data * out.grad
                    other.grad += self.data * out.grad
            out._backward = _backward
            return out

        def __pow__(self, k):
            out = LearnerValue(self.data ** k, (self,), f"**{k}")

            def _backward():
                self.grad += k * self.data ** (k - 1) * out.grad
            out._backward = _backward
            return out

        def __neg__(self):
            return self * -1

        def __sub__(self, other):
            return self + (-other)

        def __radd__(self, other):
            return self + other

        def __rmul__(self, other):
            return self * other

        def __truediv__(self, other):
            return self * other ** -1

        def tanh(self):
            t = math.tanh(self.data) * (1.5 if bug == "forward" else 1.0)
            out = LearnerValue(t, (self,), "tanh")

            def _backward():
                local = (t ** 2 - 1) if bug == "sign" else (1 - t ** 2)
                self.grad += local * out.grad
            if bug != "unset_backward":
                out._backward = _backward
            return out

        def exp(self):
            out = LearnerValue(math.exp(self.data), (self,), "exp")

            def _backward():
                self.grad += out.data * out.grad
            out._backward = _backward
            return out

        def backward(self):
            topo, visited = [], set()

            def build(v):
                if bug == "no_visited" or v not in visited:
                    visited.add(v)
                    for child in v._prev:
                        build(child)
                    topo.append(v)
            build(self)
            if bug != "no_seed":
                self.grad = 1.0
            for node in (topo if bug == "order" else reversed(topo)):
                node._backward()

    return LearnerValue
