"""The small classifier the Lightning tests train, for whichever namespace (`lightning.pytorch` or
`pytorch_lightning`) the test imports: TinyNet (BatchNorm and Dropout) with cross-entropy, the loss
logged as `train_loss`, plain SGD (with `momentum` when given)."""

import torch
from torch import nn

from tests.support.logdirs import TinyNet


def lightning_classifier(L, momentum=0.0):
    class Classifier(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = TinyNet()

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, batch_idx):
            inputs, labels = batch
            loss = nn.functional.cross_entropy(self(inputs), labels)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1, momentum=momentum)

    return Classifier
