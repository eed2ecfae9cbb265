package org.clmr.ops.augment;

import com.typesafe.config.Config;
import org.clmr.data.audio.Wav;
import org.clmr.data.augment.Augmentation;
import org.clmr.data.augment.AugmentationChain;
import org.clmr.data.augment.Parameter;
import org.clmr.data.random.Rng;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.run.RunSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code clmr augment}: renders the augmentation chain (augmentations 2-8, no crop: the whole file is one
 * view) over a WAV file at its own sample rate, so that people can listen to what the model sees and check
 * each effect against SoX; {@code --list} prints every augmentation with its parameters, ranges and default
 * probability.
 */
@Command(name = "augment", mixinStandardHelpOptions = true,
        description = {"Apply the augmentation chain to a WAV file (the whole file is one view, at its own rate).",
                "Examples: clmr augment --in a.wav --out b.wav --seed 3",
                "          clmr augment --in a.wav --out b.wav --only pitch --set pitch.semitones=3",
                "          clmr augment --list"})
public final class AugmentCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--in", paramLabel = "IN.wav", description = "Input WAV (PCM or float, any channels: mixed to mono)")
    Path in;

    @Option(names = "--out", paramLabel = "OUT.wav", description = "Output WAV (mono 16-bit PCM)")
    Path out;

    @Option(names = "--seed", description = "Seed of the view's generator (default ${DEFAULT-VALUE})", defaultValue = "0")
    long seed;

    @Option(names = "--only", split = ",", paramLabel = "NAME",
            description = "Apply only these augmentations, each always (comma-separated)")
    List<String> only = new ArrayList<>();

    @Option(names = "--set", paramLabel = "NAME.PARAM=VALUE",
            description = {"Fix an augmentation's parameter (which then is always applied), e.g. pitch.semitones=3,",
                    "filter.type=low-pass, filter.cutoff-hz=3000; any other key overrides configuration,",
                    "e.g. run.augment.reverb.probability=1"})
    List<String> sets = new ArrayList<>();

    @Option(names = "--config", paramLabel = "FILE", description = "HOCON file with overrides of reference.conf")
    Path config;

    @Option(names = "--list", description = "List every augmentation, its parameters, ranges and default probability")
    boolean list;

    @Override
    public Integer call() {
        AugmentationChain base = AugmentationChain.from(RunSpec.from(load()).augment());
        PrintWriter w = spec.commandLine().getOut();
        if (list) {
            printList(base, w);
            return 0;
        }
        if (in == null || out == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--in and --out are required (or --list)");
        }
        AugmentationChain chain;
        try {
            chain = base.restrictedTo(only, fixedParameters(base));
        } catch (IllegalArgumentException e) {
            throw new SettingsException("--only/--set", e.getMessage());
        }
        Wav.Audio audio = Wav.read(in);
        float[] x = audio.samples().clone();
        List<String> applied = new ArrayList<>();
        chain.apply(x, audio.sampleRate(), Rng.of(seed), (a, p) -> applied.add(describe(a, p)));
        Wav.writePcm16(out, x, audio.sampleRate());
        w.printf("%s -> %s (%d samples at %d Hz, seed %d)%n", in, out, x.length, audio.sampleRate(), seed);
        w.println(applied.isEmpty() ? "  nothing applied" : "  " + String.join("\n  ", applied));
        w.flush();
        return 0;
    }

    private Config load() {
        List<String> configSets = new ArrayList<>();
        for (String s : sets) {
            if (!isParameter(s)) {
                configSets.add(s);
            }
        }
        return ClmrConfig.load(config, configSets);
    }

    private static boolean isParameter(String set) {
        int dot = set.indexOf('.');
        return dot > 0 && AugmentationChain.NAMES.contains(set.substring(0, dot));
    }

    private Map<String, String> fixedParameters(AugmentationChain chain) {
        Map<String, String> fixed = new LinkedHashMap<>();
        for (String s : sets) {
            if (isParameter(s)) {
                int eq = s.indexOf('=');
                if (eq < 0) {
                    throw new SettingsException("--set " + s, "expected NAME.PARAM=VALUE, e.g. pitch.semitones=3");
                }
                fixed.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
            }
        }
        return fixed;
    }

    private static String describe(Augmentation a, double[] p) {
        StringBuilder b = new StringBuilder(a.name());
        List<Parameter> params = a.parameters();
        for (int i = 0; i < params.size(); i++) {
            Parameter q = params.get(i);
            String v = q.choices().isEmpty() ? String.format("%.4g", p[i]) : q.choices().get((int) p[i]);
            b.append(' ').append(q.name()).append('=').append(v);
        }
        return b.toString();
    }

    static void printList(AugmentationChain chain, PrintWriter w) {
        w.println("Applied to each view in this order, after the random crop (augmentation 1); each parameter is drawn");
        w.println("uniformly from its range. Set probabilities and ranges under clmr.run.augment; fix a parameter with");
        w.println("--set NAME.PARAM=VALUE.");
        List<Augmentation> augs = chain.augmentations();
        for (int i = 0; i < augs.size(); i++) {
            Augmentation a = augs.get(i);
            w.printf("%d. %-9s p=%-5s %s%n", i + 2, a.name(), trim(chain.probability(i)), a.description());
            for (Parameter q : a.parameters()) {
                w.printf("     %-26s %-28s %s%n", a.name() + "." + q.name(), q.rangeText(), q.note());
            }
        }
        w.flush();
    }

    private static String trim(double v) {
        String s = Double.toString(v);
        return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
    }
}
