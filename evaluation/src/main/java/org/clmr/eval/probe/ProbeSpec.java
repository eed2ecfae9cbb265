package org.clmr.eval.probe;

/**
 * How a probe head is trained (from {@code clmr.eval}; see evaluation's reference.conf).
 *
 * @param kind         linear or MLP
 * @param hidden       width of the MLP's hidden layer
 * @param learningRate Adam's learning rate
 * @param weightDecay  L2 added to the gradient, as torch.optim.Adam's weight_decay
 * @param batchSize    windows per minibatch (the last one of an epoch may be smaller)
 * @param maxEpochs    upper bound on epochs
 * @param patience     stop when validation tag-wise PR-AUC has not improved for this many epochs
 */
public record ProbeSpec(ProbeHead.Kind kind, int hidden, double learningRate, double weightDecay,
                        int batchSize, int maxEpochs, int patience) {
    public ProbeSpec {
        if (hidden < 1 || batchSize < 1 || maxEpochs < 1 || patience < 1 || !(learningRate > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("invalid probe spec " + kind + " hidden=" + hidden + " lr=" + learningRate
                    + " wd=" + weightDecay + " batch=" + batchSize + " epochs=" + maxEpochs + " patience=" + patience);
        }
    }

    /** The same spec with another head kind. */
    public ProbeSpec withKind(ProbeHead.Kind k) {
        return new ProbeSpec(k, hidden, learningRate, weightDecay, batchSize, maxEpochs, patience);
    }
}
