package org.clmr.ops.monitoring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ops/prometheus: every alert rule has a {@code promtool test rules} case in which it fires, the cases
 * pass, the configuration is valid ({@code promtool check config}), and the runbook says what to do for
 * every alert. The promtool checks are skipped, saying so, where promtool is not installed.
 */
@Timeout(120)
class PrometheusRulesTest {

    @Test
    void shouldPassEveryAlertsUnitTest() throws Exception {
        String out = Tools.run(Tools.PROMETHEUS_DIR, List.of(Tools.require("promtool").toString(), "test", "rules",
                "tests/alerts_test.yml"));
        assertTrue(out.contains("SUCCESS"), out);
    }

    @Test
    void shouldBeAValidConfigurationWithValidRules(@TempDir Path dir) throws Exception {
        String promtool = Tools.require("promtool").toString();
        Path withSecrets = Tools.configWithSecrets(dir, Files.readString(Tools.CONFIG), null);
        String config = Tools.run(dir, List.of(promtool, "check", "config", withSecrets.toString()));
        assertTrue(config.contains("is valid prometheus config file"), config);
        String rules = Tools.run(Tools.PROMETHEUS_DIR, List.of(promtool, "check", "rules", "alerts.yml"));
        assertTrue(rules.contains("SUCCESS: " + Tools.alertNames().size() + " rules found"), rules);
    }

    @Test
    void shouldHaveAFiringUnitTestForEveryAlert() throws Exception {
        List<String> alerts = Tools.alertNames();
        assertTrue(alerts.size() >= 8, "alerts: " + alerts);
        String tests = Files.readString(Tools.PROMETHEUS_DIR.resolve("tests/alerts_test.yml"));
        for (String alert : alerts) {
            Pattern firing = Pattern.compile("alertname: " + alert + "\\s+exp_alerts:\\s+- exp_labels:");
            Pattern quiet = Pattern.compile("alertname: " + alert + "\\s+exp_alerts: \\[]");
            assertTrue(firing.matcher(tests).find(), alert + " has no promtool case where it fires");
            assertTrue(quiet.matcher(tests).find(), alert + " has no promtool case where it stays quiet");
        }
    }

    @Test
    void shouldExplainEveryAlertInTheRunbook() throws Exception {
        String runbook = Files.readString(Tools.RUNBOOK);
        String alertsYml = Files.readString(Tools.ALERTS);
        for (String alert : Tools.alertNames()) {
            assertTrue(runbook.contains("### " + alert + "\n"), "ops/RUNBOOK.md has no section ### " + alert);
            assertTrue(alertsYml.contains("runbook: \"ops/RUNBOOK.md#" + alert.toLowerCase() + "\""),
                    alert + "'s runbook annotation does not point at its section");
        }
        assertEquals(Tools.alertNames().size(), Tools.alertNames().stream().distinct().count(), "alert names are unique");
    }
}
