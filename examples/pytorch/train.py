"""Train the paper's network in PyTorch on a task exported by `geomstream task`, writing a
safetensors checkpoint every --every steps (to a temporary name, then renamed into place, so a
watcher never reads half a file). geomstream analyses the folder while this runs:

    node bin/geomstream.js task examples/pytorch/task.json --out /tmp/task.safetensors
    python3 examples/pytorch/train.py /tmp/task.safetensors /tmp/ckpts &
    node bin/geomstream.js analyze /tmp/ckpts --task examples/pytorch/task.json --activation tanh \
        --map W=fc1.weight,b1=fc1.bias,J=fc2.weight,b2=fc2.bias --watch --idle-exit 10

The network (science: one hidden layer): h = f(W x + b1), logits = J h + b2, sigmoid + BCE,
plain SGD, the readout frozen at initialisation as in the paper (--train-readout to train it).
"""
import argparse
import os

import torch
from safetensors.torch import load_file, save_file

parser = argparse.ArgumentParser()
parser.add_argument("task", help="the .safetensors written by geomstream task")
parser.add_argument("out", help="folder for the checkpoints")
parser.add_argument("--activation", default="tanh", choices=["tanh", "relu"])
parser.add_argument("--width", type=int, default=128)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--every", type=int, default=50, help="steps between checkpoints")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--train-readout", action="store_true")
args = parser.parse_args()

torch.manual_seed(args.seed)
task = load_file(args.task)
x, conditions, targets = task["x"], task["conditions"].long(), task["targets"]
y = targets[conditions]  # each sample's K target bits
N, K = x.shape[1], targets.shape[1]


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(N, args.width)
        self.fc2 = torch.nn.Linear(args.width, K)
        self.f = torch.tanh if args.activation == "tanh" else torch.relu

    def forward(self, inputs):
        return self.fc2(self.f(self.fc1(inputs)))


net = Net()
if not args.train_readout:
    net.fc2.requires_grad_(False)
opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=args.lr)
loss_fn = torch.nn.BCEWithLogitsLoss()
os.makedirs(args.out, exist_ok=True)


def checkpoint(step):
    tmp = os.path.join(args.out, f".step-{step}.tmp")
    state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    save_file(state, tmp, metadata={"step": str(step)})
    os.replace(tmp, os.path.join(args.out, f"step-{step:08d}.safetensors"))


step = 0
checkpoint(step)
for epoch in range(args.epochs):
    order = torch.randperm(len(x))
    for i in range(0, len(x), args.batch):
        idx = order[i:i + args.batch]
        opt.zero_grad()
        loss = loss_fn(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
        step += 1
        if step % args.every == 0:
            checkpoint(step)
    print(f"epoch {epoch + 1}: loss {loss.item():.4f}", flush=True)
if step % args.every:
    checkpoint(step)
