package org.clmr.protocol.config;

import org.clmr.protocol.Sha256;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Loads the configuration once: {@code --set} overrides, then a {@code --config} file, then every
 * module's reference.conf. Checks the {@code clmr} subtree against the references: an unknown key or a
 * value of the wrong type is a {@link SettingsException}. Range checks live in each module's Settings.
 */
public final class ClmrConfig {
    /** The root of all of our keys. */
    public static final String ROOT = "clmr";

    private ClmrConfig() {
    }

    /**
     * Loads and resolves the configuration, and validates the {@code clmr} subtree's keys and types.
     *
     * @param file optional HOCON file
     * @param sets overrides as {@code key=value}; a key without the {@code clmr.} prefix gets it
     */
    public static Config load(Path file, List<String> sets) {
        Config overrides = ConfigFactory.empty();
        for (String set : sets) {
            overrides = parseSet(set).withFallback(overrides);
        }
        Config fromFile = ConfigFactory.empty();
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new SettingsException("--config", file, "no such file; give the path of a HOCON file");
            }
            try {
                fromFile = ConfigFactory.parseFile(file.toFile());
            } catch (ConfigException e) {
                throw new SettingsException("--config", file + ": " + oneLine(e.getMessage()));
            }
        }
        Config reference = ConfigFactory.defaultReference();
        Config resolved;
        try {
            resolved = overrides.withFallback(fromFile).withFallback(ConfigFactory.defaultOverrides())
                    .withFallback(reference).resolve();
        } catch (ConfigException e) {
            throw new SettingsException(ROOT, oneLine(e.getMessage()));
        }
        if (resolved.getValue(ROOT).valueType() != ConfigValueType.OBJECT) {
            throw new SettingsException(ROOT, render(resolved.getValue(ROOT)), "must be a section { ... }");
        }
        checkKeysAndTypes(resolved.getConfig(ROOT), reference.getConfig(ROOT), ROOT);
        return resolved;
    }

    /** The defaults of every module on the class path, validated. */
    public static Config defaults() {
        return load(null, List.of());
    }

    /** Parses one {@code key=value} override. */
    static Config parseSet(String set) {
        int eq = set.indexOf('=');
        if (eq <= 0) {
            throw new SettingsException("--set", set, "must be key=value, e.g. --set clmr.run.global-batch=96");
        }
        String key = set.substring(0, eq).trim();
        if (!key.equals(ROOT) && !key.startsWith(ROOT + ".")) {
            key = ROOT + "." + key;
        }
        String value = set.substring(eq + 1).trim();
        try {
            return ConfigFactory.parseString(key + " = " + (value.isEmpty() ? "\"\"" : value));
        } catch (ConfigException e) {
            try {
                return ConfigFactory.parseString(key + " = " + ConfigValueQuote.quote(value));
            } catch (ConfigException e2) {
                throw new SettingsException(key, value, "cannot be parsed as a HOCON value");
            }
        }
    }

    private static void checkKeysAndTypes(Config actual, Config reference, String prefix) {
        for (Map.Entry<String, ConfigValue> e : actual.root().entrySet()) {
            String key = prefix + "." + e.getKey();
            ConfigValue ref = reference.root().get(e.getKey());
            if (ref == null) {
                throw new SettingsException(key, "unknown key; see `clmr config` for every key and its default");
            }
            ConfigValue value = e.getValue();
            ConfigValueType want = ref.valueType();
            ConfigValueType got = value.valueType();
            if (want == ConfigValueType.OBJECT) {
                if (got != ConfigValueType.OBJECT) {
                    throw new SettingsException(key, render(value), "must be a section { ... }");
                }
                checkKeysAndTypes(actual.getConfig(quoted(e.getKey())), reference.getConfig(quoted(e.getKey())), key);
            } else if (want != got && want != ConfigValueType.NULL && !compatible(want, value)) {
                throw new SettingsException(key, render(value), "must be " + describe(want) + " (default " + render(ref) + ")");
            }
        }
    }

    private static boolean compatible(ConfigValueType want, ConfigValue value) {
        if (value.valueType() != ConfigValueType.STRING) {
            return want == ConfigValueType.STRING && value.valueType() != ConfigValueType.OBJECT
                    && value.valueType() != ConfigValueType.LIST;
        }
        String s = (String) value.unwrapped();
        switch (want) {
            case NUMBER:
                // HOCON allows durations and sizes as strings where a number is expected by a getter
                return s.matches("-?[0-9.]+\\s*[a-zA-Z]*");
            case BOOLEAN:
                return s.equals("true") || s.equals("false") || s.equals("yes") || s.equals("no")
                        || s.equals("on") || s.equals("off");
            default:
                return false;
        }
    }

    private static String describe(ConfigValueType t) {
        switch (t) {
            case NUMBER: return "a number";
            case BOOLEAN: return "true or false";
            case LIST: return "a list [ ... ]";
            case STRING: return "a string";
            default: return t.name().toLowerCase();
        }
    }

    private static String quoted(String key) {
        return ConfigValueQuote.quote(key);
    }

    private static String render(ConfigValue v) {
        return v.render(ConfigRenderOptions.concise());
    }

    /** The resolved {@code clmr} subtree as HOCON, keys sorted. */
    public static String render(Config resolved) {
        return resolved.getConfig(ROOT).root().render(ConfigRenderOptions.defaults()
                .setOriginComments(false).setComments(false).setJson(false).setFormatted(true));
    }

    /** SHA-256 (hex) over every {@code path=value} line of the {@code clmr} subtree in sorted order. */
    public static String hash(Config resolved) {
        TreeMap<String, String> flat = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> e : resolved.getConfig(ROOT).entrySet()) {
            flat.put(e.getKey(), render(e.getValue()));
        }
        List<String> lines = new ArrayList<>(flat.size());
        flat.forEach((k, v) -> lines.add(k + "=" + v));
        return sha256(String.join("\n", lines));
    }

    static String sha256(String text) {
        return Sha256.hex(text);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }

    /** HOCON quoting of a key or a string value. */
    static final class ConfigValueQuote {
        private ConfigValueQuote() {
        }

        static String quote(String s) {
            return com.typesafe.config.ConfigUtil.quoteString(s);
        }
    }
}
