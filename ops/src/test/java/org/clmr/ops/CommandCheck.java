package org.clmr.ops;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import org.clmr.data.augment.AugmentationChain;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a {@code clmr} command line found in a deployment file or the runbook: picocli parses it (the
 * subcommand and every option exist, values convert), and its configuration ({@code --config} file,
 * {@code --set} keys, {@code -Dclmr.*} JVM options) loads: every key exists in the reference
 * configuration with the right type, and every module's Settings validate it.
 */
final class CommandCheck {
    /** ${VAR}, ${?VAR} (HOCON, systemd) and $(VAR) (Kubernetes) references. */
    static final Pattern VARIABLE = Pattern.compile("\\$\\{\\??([A-Za-z_][A-Za-z0-9_]*)}|\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    private CommandCheck() {
    }

    /** The variable names referenced in {@code text}. */
    static Set<String> variables(String text) {
        Set<String> out = new LinkedHashSet<>();
        Matcher m = VARIABLE.matcher(text);
        while (m.find()) {
            out.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        return out;
    }

    /** {@code text} with every variable reference replaced by its value in {@code env} (a missing one fails). */
    static String substitute(String text, Map<String, String> env, String where) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            String value = env.get(name);
            if (value == null) {
                throw new AssertionError(where + ": " + text + " uses " + name + ", which is not defined there");
            }
            m.appendReplacement(b, Matcher.quoteReplacement(value));
        }
        m.appendTail(b);
        return b.toString();
    }

    /**
     * A HOCON file with environment references resolved from {@code env} (each must be there), written to a
     * temporary file that {@code clmr --config} can read.
     */
    static Path resolvedConfig(String hocon, Map<String, String> env, String where) throws IOException {
        for (String name : variables(hocon)) {
            if (!env.containsKey(name)) {
                throw new AssertionError(where + " uses ${" + name + "}, which the process's environment lacks");
            }
        }
        Config resolved = ConfigFactory.parseString(hocon).resolveWith(ConfigFactory.parseMap(env));
        Path file = Files.createTempFile("clmr-deploy-", ".conf");
        Files.writeString(file, resolved.root().render(ConfigRenderOptions.concise()));
        file.toFile().deleteOnExit();
        return file;
    }

    /**
     * {@link #resolvedConfig(String, Map, String)} of the file {@code name} among {@code files} (name -> HOCON, the
     * files of one directory, as a ConfigMap mounts them), whose {@code include "OTHER"} lines read the others.
     */
    static Path resolvedConfig(Map<String, String> files, String name, Map<String, String> env, String where)
            throws IOException {
        Path dir = Files.createTempDirectory("clmr-deploy-");
        dir.toFile().deleteOnExit();
        StringBuilder involved = new StringBuilder(files.get(name));
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path file = dir.resolve(f.getKey());
            Files.writeString(file, f.getValue());
            file.toFile().deleteOnExit();
            if (files.get(name).contains("include \"" + f.getKey() + "\"")) {
                involved.append('\n').append(f.getValue());
            }
        }
        for (String variable : variables(involved.toString())) {
            if (!env.containsKey(variable)) {
                throw new AssertionError(where + " (" + name + ") uses ${" + variable + "}, which the process's environment"
                        + " lacks");
            }
        }
        Config resolved = ConfigFactory.parseFile(dir.resolve(name).toFile()).resolveWith(ConfigFactory.parseMap(env));
        Path file = Files.createTempFile("clmr-deploy-", ".conf");
        Files.writeString(file, resolved.root().render(ConfigRenderOptions.concise()));
        file.toFile().deleteOnExit();
        return file;
    }

    /**
     * Parses {@code args} (after {@code clmr}) and loads their configuration.
     *
     * @param configFiles a {@code --config} path as written (e.g. /etc/clmr/clmr.conf) -> the file to read instead
     * @param jvmOptions  JVM options the process gets ({@code -Dclmr.KEY=VALUE} are configuration)
     * @return the parsed subcommand chain, e.g. [worker] or [worker, drain]
     */
    static List<String> check(List<String> args, Map<String, Path> configFiles, List<String> jvmOptions,
                              String where) {
        List<String> mapped = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            mapped.add(args.get(i));
            if (args.get(i).equals("--config") && i + 1 < args.size()) {
                String path = args.get(++i);
                Path file = configFiles.getOrDefault(path, Path.of(path));
                mapped.add(file.toString());
            }
        }
        ParseResult parsed;
        try {
            parsed = Clmr.commandLine().parseArgs(mapped.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new AssertionError(where + ": clmr " + String.join(" ", args) + ": " + e.getMessage(), e);
        }
        List<String> chain = new ArrayList<>();
        ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
            chain.add(leaf.commandSpec().name());
        }
        if (chain.isEmpty()) {
            throw new AssertionError(where + ": clmr " + String.join(" ", args) + " names no subcommand");
        }
        if (leaf.hasMatchedOption("--set") || leaf.hasMatchedOption("--config") || !jvmOptions.isEmpty()) {
            List<String> sets = new ArrayList<>(leaf.hasMatchedOption("--set")
                    ? leaf.<List<String>>matchedOptionValue("--set", List.of()) : List.of());
            for (String o : jvmOptions) {
                if (o.startsWith("-Dclmr.")) {
                    sets.add(o.substring(2));
                }
            }
            Path config = leaf.hasMatchedOption("--config") ? leaf.matchedOptionValue("--config", (Path) null) : null;
            Map<String, String> augmentParameters = chain.equals(List.of("augment")) ? augmentParameters(sets) : Map.of();
            try {
                Config loaded = ClmrConfig.load(config, sets);
                AllSettings.validate(loaded);
                if (!augmentParameters.isEmpty()) {
                    AugmentationChain.from(RunSpec.from(loaded).augment())
                            .restrictedTo(leaf.matchedOptionValue("--only", List.<String>of()), augmentParameters);
                }
            } catch (RuntimeException e) {
                throw new AssertionError(where + ": clmr " + String.join(" ", args) + ": " + e.getMessage(), e);
            }
        }
        return chain;
    }

    /**
     * {@code clmr augment --set NAME.PARAM=VALUE} fixes a parameter of the augmentation NAME rather than setting a
     * configuration key: moves those out of {@code sets}, as the command does.
     */
    private static Map<String, String> augmentParameters(List<String> sets) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<String> it = sets.iterator(); it.hasNext(); ) {
            String s = it.next();
            int dot = s.indexOf('.');
            int eq = s.indexOf('=');
            if (dot > 0 && eq > dot && AugmentationChain.NAMES.contains(s.substring(0, dot))) {
                out.put(s.substring(0, eq), s.substring(eq + 1));
                it.remove();
            }
        }
        return out;
    }
}
