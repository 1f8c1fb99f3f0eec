"""Tracing the chain rule: backward and forward passes recorded step by step, collapsed by neuron/layer/module, and forward vs reverse mode."""
