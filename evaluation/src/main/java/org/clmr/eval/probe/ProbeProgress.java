package org.clmr.eval.probe;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * What a person sees while probes train: on a terminal, a progress bar per head (its epochs over the weight-decay
 * grid, or the grid's points for L-BFGS) that names the grid point it is at; elsewhere (a log file, CI) one line per
 * head when it is chosen. Every epoch and grid point is also logged at DEBUG, and a grid point whose L-BFGS fit did
 * not converge at WARN. The report keeps each head's per-epoch curve and the grid's scores. Caller's thread.
 */
public final class ProbeProgress implements ProbeEvaluation.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(ProbeProgress.class);

    private final ProbeSpec spec;
    private final String what;
    private final boolean terminal;
    private ProgressBar bar;
    private String head;
    private long started;
    private int epochsOfCandidate;

    /**
     * @param what     what is probed, for the lines ("the pre-trained encoder at label fraction 0.1")
     * @param terminal whether a person watches a terminal (then the bar; otherwise a line per head)
     */
    public ProbeProgress(ProbeSpec spec, String what, boolean terminal) {
        this.spec = spec;
        this.what = what;
        this.terminal = terminal;
    }

    /** A listener for this JVM's standard output: a bar on a terminal ({@code System.console() != null}). */
    public static ProbeProgress forConsole(ProbeSpec spec, String what) {
        return new ProbeProgress(spec, what, System.console() != null);
    }

    @Override
    public void onRunStart(int index, int total, long seed, int trainClips) {
        head = String.format(Locale.ROOT, "head %d/%d (seed %d, %d training tracks)", index + 1, total, seed, trainClips);
        started = System.nanoTime();
        epochsOfCandidate = 0;
        if (terminal) {
            int perPoint = spec.usesLbfgs() ? 1 : spec.maxEpochs();
            // a short name and message leave the bar room on an 80-column terminal; the head's line says the rest
            bar = new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "head %d/%d", index + 1, total))
                    .setInitialMax((long) perPoint * spec.weightDecays().size())
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).build();
        }
    }

    @Override
    public void onEpoch(EpochRecord r) {
        epochsOfCandidate++;
        if (bar != null) {
            bar.step();
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug(String.format(Locale.ROOT, "%s epoch %d: loss %.4f, valid tag ROC-AUC %.4f, PR-AUC %.4f", head,
                    r.epoch(), r.trainLoss(), r.validTagRocAuc(), r.validTagPrAuc()));
        }
    }

    @Override
    public void onCandidate(ProbeSearch.Candidate c) {
        if (bar != null) {
            // early stopping ends a grid point before its last epoch: the bar moves on to the next point's share
            bar.stepBy(spec.usesLbfgs() ? 1 : spec.maxEpochs() - epochsOfCandidate);
            bar.setExtraMessage(String.format(Locale.ROOT, "wd %s: ROC %.3f", ProbeSpec.plain(c.weightDecay()),
                    c.validTagRocAuc()));
        }
        epochsOfCandidate = 0;
        String line = String.format(Locale.ROOT, "%s weight decay %s: valid tag ROC-AUC %.4f, PR-AUC %.4f (%s)", head,
                ProbeSpec.plain(c.weightDecay()), c.validTagRocAuc(), c.validTagPrAuc(), fit(c));
        if (c.unconvergedTags() > 0) {
            LOG.warn(line);
        } else {
            LOG.debug(line);
        }
    }

    @Override
    public void onRunEnd(ProbeEvaluation.Run run) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
        ProbeSearch.Candidate chosen = run.candidates().stream().filter(c -> c.weightDecay() == run.weightDecay())
                .findFirst().orElse(run.candidates().get(0));
        LOG.info(String.format(Locale.ROOT, "%s of %s: weight decay %s chosen of %d (valid tag ROC-AUC %.4f, PR-AUC %.4f;"
                        + " %s); test tag ROC-AUC %.4f, PR-AUC %.4f; %.1f s", head, what, ProbeSpec.plain(run.weightDecay()),
                run.candidates().size(), chosen.validTagRocAuc(), chosen.validTagPrAuc(), fit(chosen),
                run.test().tagRocAucMean(), run.test().tagPrAucMean(), (System.nanoTime() - started) / 1e9));
    }

    private static String fit(ProbeSearch.Candidate c) {
        return c.epochs() > 0 ? "best epoch " + c.bestEpoch() + " of " + c.epochs()
                : c.iterations() + " L-BFGS iterations" + (c.unconvergedTags() > 0 ? ", " + c.unconvergedTags()
                + " tags NOT converged (raise clmr.eval.max-iterations)" : "");
    }
}
