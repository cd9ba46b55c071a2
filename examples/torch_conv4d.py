"""A 4-D convolutional model in PyTorch with convnd.torch: light-field denoising.

A light field is a 4-D signal L(u, v, s, t): an image (s, t) per viewpoint (u, v) on a grid of
cameras. Neighbouring views see the same scene shifted, so a 4-D convolution can average a
noisy light field across the image and the view axes at once, which torch's layers (up to
Conv3d) cannot do in one layer. The model below is a learned 3x3x3x3 filter with reflect
padding that estimates the noise; trained by SGD on synthetic light fields (a random smooth
scene seen from each view with a parallax shift) for a few steps, it removes most of the noise,
with convnd computing every forward and backward pass.

Run after building (the tests run it too):
    PYTHONPATH=build/python /usr/bin/python3 examples/torch_conv4d.py
"""

import time

import torch
import torch.nn.functional as F

import convnd.torch as ct

torch.manual_seed(0)
VIEWS, SIZE, NOISE = 5, 12, 0.5     # a 5 x 5 grid of views, 12 x 12 pixels each


def light_fields(n):
    """n noisy light fields (n, 1, VIEWS, VIEWS, SIZE, SIZE) and their clean versions."""
    scene = F.avg_pool2d(torch.randn(n, 1, 2 * SIZE, 2 * SIZE), 5, stride=1, padding=2) * 4
    # parallax: the view at (u, v) sees the scene shifted by (u, v) pixels
    clean = torch.stack([torch.stack([scene[..., u:u + SIZE, v:v + SIZE]
                                      for v in range(VIEWS)], dim=2)
                         for u in range(VIEWS)], dim=2)
    return clean + NOISE * torch.randn_like(clean), clean


class Denoiser(torch.nn.Module):
    """x minus a 4-D convolution of x that estimates the noise."""

    def __init__(self):
        super().__init__()
        self.noise = ct.Conv4d(1, 1, 3, padding=1, padding_mode="reflect")
        torch.nn.init.zeros_(self.noise.weight)      # start as the identity

    def forward(self, x):
        return x - self.noise(x)


model = Denoiser()
print(model)
opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
test_noisy, test_clean = light_fields(4)
baseline = F.mse_loss(test_noisy, test_clean).item()
print(f"noisy input: mse {baseline:.4f}")

start = time.perf_counter()
for step in range(1, 31):
    noisy, clean = light_fields(2)
    opt.zero_grad()
    loss = F.mse_loss(model(noisy), clean)
    loss.backward()                 # the weight and bias gradients by convnd's backward passes
    opt.step()
    if step % 10 == 0:
        with torch.no_grad():
            test = F.mse_loss(model(test_noisy), test_clean).item()
        print(f"step {step:2d}: train mse {loss.item():.4f}, test mse {test:.4f}")
print(f"30 training steps in {time.perf_counter() - start:.2f} s")

assert test < 0.5 * baseline, "the model should remove at least half of the noise"
print(f"denoised: test mse {test:.4f}, {test / baseline:.0%} of the noisy input's")
