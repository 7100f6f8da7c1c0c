"""The LightningModule: cross-entropy, the configured optimizer, accuracy on validation and test."""

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from prune_ready.recipe import OptimizerFactory

EVAL_SPLITS = ("val", "test")  # the order of the datamodule's val_dataloader() list


class Classifier(pl.LightningModule):
    """Trains `net` with the optimizer `make_optimizer` builds from its parameters (by default
    fused Adam at the model's paper rate, Frankle & Carbin's setting; see prune_ready.recipe).

    Each call of `training_step` gets a chunk of minibatches (see data.StepBatches) and takes
    one optimizer step per minibatch, written out by hand (manual optimisation): a step costs one
    forward, one backward and one optimizer update (for fused Adam one kernel), with no host
    synchronisation, and Lightning's per-call overhead is paid once per chunk. A learning-rate
    schedule sets the rate before each step (a step pre-hook of the pruning core). The training
    loss is accumulated on the device; metrics are logged once per evaluation.
    """

    def __init__(
        self,
        net: nn.Module,
        make_optimizer: OptimizerFactory,
        num_classes: int = 10,
        channels_last: bool = False,
        compile: bool = False,
    ) -> None:
        super().__init__()
        self.make_optimizer = make_optimizer
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.net = net.to(memory_format=self.memory_format)
        # a plain function, not a submodule: `net` keeps its layer names, masks and hooks
        self.net_forward = torch.compile(self.net.forward) if compile else self.net.forward
        self.automatic_optimization = False
        self.eval_loss = nn.ModuleDict({s: MeanMetric() for s in EVAL_SPLITS})
        self.eval_acc = nn.ModuleDict(
            {s: MulticlassAccuracy(num_classes, average="micro") for s in EVAL_SPLITS}
        )
        self.register_buffer("train_loss_sum", torch.zeros(()), persistent=False)
        self.register_buffer("train_count", torch.zeros(()), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.net_forward(x.contiguous(memory_format=self.memory_format))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        optimizer = self.make_optimizer(self.parameters())
        for group in optimizer.param_groups:  # the rate a schedule scales (torch's convention)
            group["initial_lr"] = group["lr"]
        return optimizer

    def training_step(self, chunk: list[tuple[Tensor, Tensor]], batch_idx: int) -> None:
        optimizer = self.optimizers()
        for x, y in chunk:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(self(x), y)
            self.manual_backward(loss)
            optimizer.step()
            self.train_loss_sum += loss.detach() * len(y)
            self.train_count += len(y)

    def validation_step(
        self, batch: tuple[Tensor, Tensor], batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        x, y = batch
        split = EVAL_SPLITS[dataloader_idx]
        logits = self(x)
        self.eval_loss[split].update(F.cross_entropy(logits, y), weight=len(y))
        self.eval_acc[split].update(logits, y)

    def on_validation_epoch_end(self) -> None:
        """Log val/test loss and accuracy, and the mean training loss since the last evaluation."""
        if self.train_count > 0:
            self.log("train/loss", self.train_loss_sum / self.train_count, sync_dist=True)
            self.train_loss_sum.zero_()
            self.train_count.zero_()
        for split in EVAL_SPLITS:
            if self.eval_acc[split].update_called:
                self.log(f"{split}/loss", self.eval_loss[split].compute())
                self.log(f"{split}/acc", self.eval_acc[split].compute())
            self.eval_loss[split].reset()
            self.eval_acc[split].reset()

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self.validation_step(batch, batch_idx, dataloader_idx=EVAL_SPLITS.index("test"))

    def on_test_epoch_end(self) -> None:
        self.on_validation_epoch_end()
