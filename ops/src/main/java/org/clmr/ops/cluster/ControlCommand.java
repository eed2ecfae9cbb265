package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import org.clmr.data.DataSettings;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.cluster.IfRunExists;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code clmr control start|pause|resume|stop}: operator commands to a coordinator node. A start of a run id that
 * exists is refused unless {@code --resume} or {@code --fresh keep|drop} says what is meant.
 */
@Command(name = "control", mixinStandardHelpOptions = true,
        description = {"Operator commands to the coordinator: start a run (with the coordinator node's RunSpec),",
                "pause it (members stop at the next plan boundary), resume it, or stop it."})
public final class ControlCommand implements Callable<Integer> {
    /** The commands. */
    enum Action { start, pause, resume, stop }

    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ACTION", description = "start, pause, resume or stop")
    Action action;

    @Option(names = "--coordinator", paramLabel = "HOST:PORT",
            description = "HTTP endpoint of a coordinator node (default: clmr.coordinator.http host and port)")
    String coordinator;

    @Option(names = "--run-id", description = "start: the run's name")
    String runId;

    @Option(names = "--dataset-hash", description = "start: content hash of the packed dataset every worker must read")
    String datasetHash;

    @Option(names = "--tracks", description = "start: tracks in that dataset")
    Long tracks;

    @Option(names = "--dataset", paramLabel = "DIR",
            description = "start: the run's packed dataset, instead of --dataset-hash and --tracks (read from it)")
    Path dataset;

    @ArgGroup(exclusive = true)
    Existing existing;

    /** What a start does with a run id that exists (without either, it is refused). */
    static final class Existing {
        @Option(names = "--resume", description = "start: go on with the existing run of this id from its newest"
                + " checkpoint")
        boolean resume;

        @Option(names = "--fresh", paramLabel = "keep|drop", description = "start: start the existing run of this id"
                + " afresh at step 0, keeping its checkpoints as run ID.archived-N (keep) or deleting them (drop)")
        Fresh fresh;
    }

    /** What happens to the checkpoints of a run started afresh. */
    enum Fresh { keep, drop }

    @Override
    public Integer call() {
        CoordinatorClient client = CoordinatorClient.of(coordinator, options.load());
        String path = "/control/" + action;
        if (action == Action.start) {
            if (dataset != null) {
                readDataset(options.load());
            }
            if (runId == null || datasetHash == null || tracks == null) {
                throw new SettingsException("control start", "needs --run-id and --dataset DIR (or --dataset-hash and"
                        + " --tracks)");
            }
            path += "?run-id=" + enc(runId) + "&dataset-hash=" + enc(datasetHash) + "&tracks=" + tracks
                    + "&if-exists=" + ifExists().parameter();
        }
        JsonNode reply = client.post(path);
        if (!reply.path("accepted").asBoolean(false)) {
            throw new UserError(action + " refused: " + reply.path("message").asText());
        }
        spec.commandLine().getOut().println(reply.path("message").asText());
        spec.commandLine().getOut().flush();
        return 0;
    }

    private IfRunExists ifExists() {
        if (existing == null) {
            return IfRunExists.REFUSE;
        }
        if (existing.resume) {
            return IfRunExists.RESUME;
        }
        return existing.fresh == Fresh.keep ? IfRunExists.FRESH_KEEP : IfRunExists.FRESH_DROP;
    }

    /** The dataset's content hash and its tracks as the run counts them (pre-training view). */
    private void readDataset(Config config) {
        if (datasetHash != null || tracks != null) {
            throw new SettingsException("--dataset", "give either --dataset or --dataset-hash and --tracks");
        }
        try (PackedDataset d = PackedDataset.open(dataset)) {
            datasetHash = d.contentHash();
            tracks = (long) PretrainView.of(d, DataSettings.from(config).concatSongs()).size();
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
