"""Tracing the chain rule: backward and forward passes recorded step by step, collapsed by
neuron, layer or module, and forward against reverse mode."""
