"""The training engine: M networks of the same shape along a leading model axis.

- ``params``: weights and biases (M, ...), initialisation, random streams;
- ``ops``: forward/backward pairs of the operations; ``network``: one forward and one backward pass;
- ``masks``: dropout masks (the course's fixed ones, or fresh ones from a counter-based hash);
- ``penalties``: L2 and L1 cost terms and gradients; ``constraints``: weight decay and max-norm;
- ``early_stopping``: the dev-set monitor;
- ``loop``: the reference training loop (readable NumPy, the definition of correct) and ``History``;
- ``compiled``: the same loop compiled with numba (``_fused``), the fast path;
- ``gradcheck``: gradients against central differences.

Nothing here knows ``TrainConfig``: the engine takes arrays (``loop.Hyper``); ``reglab.fit`` makes them.
"""
