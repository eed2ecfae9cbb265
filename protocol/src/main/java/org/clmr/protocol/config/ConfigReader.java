package org.clmr.protocol.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;

import java.time.Duration;
import java.util.List;

/**
 * Typed, range-checked reads from one subtree of the configuration. Every failure names the full key
 * (with the subtree's prefix) and what is allowed, as a {@link SettingsException}.
 */
public final class ConfigReader {
    private final Config config;
    private final String prefix;

    public ConfigReader(Config config, String prefix) {
        this.config = config;
        this.prefix = prefix;
    }

    /** Reader for {@code prefix + "." + path}. */
    public ConfigReader at(String path) {
        try {
            return new ConfigReader(config.getConfig(path), key(path));
        } catch (ConfigException.Missing e) {
            throw new SettingsException(key(path), "missing; it must be a section (see reference.conf)");
        } catch (ConfigException.WrongType e) {
            throw new SettingsException(key(path), "must be a section { ... }, not a single value");
        }
    }

    public String key(String path) {
        return prefix.isEmpty() ? path : prefix + "." + path;
    }

    public Config config() {
        return config;
    }

    public boolean has(String path) {
        return config.hasPath(path);
    }

    public int getInt(String path, int min, int max) {
        long v = getLong(path, min, max);
        return (int) v;
    }

    public long getLong(String path, long min, long max) {
        long v;
        try {
            v = config.getLong(path);
        } catch (ConfigException.WrongType e) {
            throw new SettingsException(key(path), raw(path), "must be an integer in [" + min + ", " + max + "]");
        } catch (ConfigException.Missing e) {
            throw new SettingsException(key(path), "missing; expected an integer in [" + min + ", " + max + "]");
        }
        if (v < min || v > max) {
            throw new SettingsException(key(path), v, "must be an integer in [" + min + ", " + max + "]");
        }
        return v;
    }

    public double getDouble(String path, double min, double max) {
        double v;
        try {
            v = config.getDouble(path);
        } catch (ConfigException.WrongType e) {
            throw new SettingsException(key(path), raw(path), "must be a number in [" + min + ", " + max + "]");
        } catch (ConfigException.Missing e) {
            throw new SettingsException(key(path), "missing; expected a number in [" + min + ", " + max + "]");
        }
        if (!(v >= min && v <= max)) {
            throw new SettingsException(key(path), v, "must be a number in [" + min + ", " + max + "]");
        }
        return v;
    }

    /** A probability in [0, 1]. */
    public double getProbability(String path) {
        return getDouble(path, 0.0, 1.0);
    }

    public boolean getBoolean(String path) {
        try {
            return config.getBoolean(path);
        } catch (ConfigException.WrongType e) {
            throw new SettingsException(key(path), raw(path), "must be true or false");
        } catch (ConfigException.Missing e) {
            throw new SettingsException(key(path), "missing; expected true or false");
        }
    }

    public String getString(String path) {
        try {
            return config.getString(path);
        } catch (ConfigException.WrongType e) {
            throw new SettingsException(key(path), raw(path), "must be a string");
        } catch (ConfigException.Missing e) {
            throw new SettingsException(key(path), "missing; expected a string");
        }
    }

    /** A string that must be one of {@code allowed}. */
    public String getEnum(String path, List<String> allowed) {
        String v = getString(path);
        if (!allowed.contains(v)) {
            throw new SettingsException(key(path), v, "must be one of " + String.join(", ", allowed));
        }
        return v;
    }

    public Duration getDuration(String path, Duration min, Duration max) {
        Duration d;
        try {
            d = config.getDuration(path);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            throw new SettingsException(key(path), raw(path), "must be a duration such as 30s or 500ms");
        } catch (ConfigException.Missing e) {
            throw new SettingsException(key(path), "missing; expected a duration such as 30s");
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new SettingsException(key(path), d, "must be a duration in [" + min + ", " + max + "]");
        }
        return d;
    }

    /** A size in bytes ({@code 128M}, {@code 4096}) in {@code [min, max]}. */
    public long getBytes(String path, long min, long max) {
        long v;
        try {
            v = config.getBytes(path);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            throw new SettingsException(key(path), raw(path), "must be a size such as 128M or 4096");
        } catch (ConfigException.Missing e) {
            throw new SettingsException(key(path), "missing; expected a size such as 128M");
        }
        if (v < min || v > max) {
            throw new SettingsException(key(path), v, "must be a size in [" + min + ", " + max + "] bytes");
        }
        return v;
    }

    public List<Integer> getIntList(String path, int min, int max) {
        List<Integer> v;
        try {
            v = config.getIntList(path);
        } catch (ConfigException.WrongType e) {
            throw new SettingsException(key(path), raw(path), "must be a list of integers");
        } catch (ConfigException.Missing e) {
            throw new SettingsException(key(path), "missing; expected a list of integers");
        }
        for (int x : v) {
            if (x < min || x > max) {
                throw new SettingsException(key(path), v, "every element must be an integer in [" + min + ", " + max + "]");
            }
        }
        return List.copyOf(v);
    }

    private String raw(String path) {
        try {
            return config.getValue(path).render(com.typesafe.config.ConfigRenderOptions.concise());
        } catch (RuntimeException e) {
            return "?";
        }
    }
}
