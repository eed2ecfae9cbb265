package org.clmr.eval.probe;

/**
 * One epoch of a probe's training: the validation curve's point.
 *
 * @param epoch          1-based
 * @param trainLoss      mean binary cross-entropy over the epoch's windows
 * @param validTagRocAuc tag-wise ROC-AUC on the validation clips (windows averaged)
 * @param validTagPrAuc  tag-wise PR-AUC on the validation clips, the early-stopping criterion
 */
public record EpochRecord(int epoch, double trainLoss, double validTagRocAuc, double validTagPrAuc) {
}
