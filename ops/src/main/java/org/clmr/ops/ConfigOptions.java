package org.clmr.ops;

import com.typesafe.config.Config;
import org.clmr.protocol.config.ClmrConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The {@code --config} and {@code --set} options every command that reads configuration shares. */
public final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "HOCON file with overrides of reference.conf")
    Path file;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override one key (the clmr. prefix is optional), e.g. --set run.global-batch=48")
    List<String> sets = new ArrayList<>();

    /** These options as command-line arguments, to give a child process ({@code clmr worker}) the same configuration. */
    public List<String> asArgs() {
        List<String> args = new ArrayList<>();
        if (file != null) {
            args.add("--config");
            args.add(file.toAbsolutePath().toString());
        }
        for (String s : sets) {
            args.add("--set");
            args.add(s);
        }
        return args;
    }

    /** The resolved configuration, its keys and types checked and every module's Settings validated. */
    public Config load() {
        Config config = ClmrConfig.load(file, sets);
        AllSettings.validate(config);
        return config;
    }
}
