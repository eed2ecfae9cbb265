package org.clmr.protocol.security;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps secrets out of rendered configuration ({@code clmr config}, anything that prints a config tree). The rule,
 * one for every module: a key whose last path element ends with {@code password}, {@code passphrase},
 * {@code secret} or {@code token} holds a secret, and a non-empty value there is shown as {@value #REDACTED};
 * a key ending with {@code url} may carry a password inside the URL ({@code user:pass@host}, {@code password=...}),
 * which is redacted in place. Name new secret keys accordingly (e.g. {@code key-store-password}); keep the token
 * itself out of the configuration (a file or an environment variable, see {@link ControlToken}). Stateless; any
 * thread.
 */
public final class Redaction {
    /** What a redacted value shows. */
    public static final String REDACTED = "<redacted>";

    private static final List<String> SECRET_SUFFIXES = List.of("password", "passwd", "passphrase", "secret", "token");
    /** {@code password=...} or {@code pwd=...} in a query string or a JDBC property list. */
    private static final Pattern URL_PASSWORD = Pattern.compile("(?i)\\b(password|pwd)=[^&;]*");
    /** The password of {@code scheme://user:password@host}. */
    private static final Pattern URL_USER_INFO = Pattern.compile("(//[^/@:?#]*):[^/@?#]*@");

    private Redaction() {
    }

    /** Whether the key (a path such as {@code clmr.coordinator.database.password}) names a secret. */
    public static boolean isSecretKey(String path) {
        String last = lastElement(path);
        return SECRET_SUFFIXES.stream().anyMatch(last::endsWith);
    }

    /** The URL with any password in it replaced by {@value #REDACTED}. */
    public static String redactUrl(String url) {
        String s = URL_USER_INFO.matcher(url).replaceAll("$1:" + Matcher.quoteReplacement(REDACTED) + "@");
        return URL_PASSWORD.matcher(s).replaceAll("$1=" + Matcher.quoteReplacement(REDACTED));
    }

    /**
     * The configuration with every secret replaced by {@value #REDACTED} (empty values stay empty: that no
     * password is set is no secret, and worth seeing). Everything else is unchanged.
     */
    public static Config redact(Config config) {
        Config out = config;
        for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
            String path = e.getKey();
            ConfigValue value = e.getValue();
            if (isSecretKey(path) && !isBlank(value)) {
                out = out.withValue(path, ConfigValueFactory.fromAnyRef(REDACTED));
            } else if (value.valueType() == ConfigValueType.STRING && lastElement(path).endsWith("url")) {
                String url = (String) value.unwrapped();
                String redacted = redactUrl(url);
                if (!redacted.equals(url)) {
                    out = out.withValue(path, ConfigValueFactory.fromAnyRef(redacted));
                }
            }
        }
        return out;
    }

    private static boolean isBlank(ConfigValue value) {
        return value.valueType() == ConfigValueType.NULL
                || value.valueType() == ConfigValueType.STRING && ((String) value.unwrapped()).isEmpty();
    }

    private static String lastElement(String path) {
        List<String> elements = ConfigUtil.splitPath(path);
        return elements.get(elements.size() - 1).toLowerCase(Locale.ROOT);
    }
}
