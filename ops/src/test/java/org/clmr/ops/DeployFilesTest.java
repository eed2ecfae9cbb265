package org.clmr.ops;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every deployment file in ops/k8s and ops/systemd parses, and every {@code clmr} command line in it uses
 * subcommands, options and configuration keys that exist, with every variable it references defined where
 * the process runs (container env, EnvironmentFile).
 */
class DeployFilesTest {
    private static final Path K8S = Path.of("k8s");
    private static final Path SYSTEMD = Path.of("systemd");
    private static final String CONFIG_PATH = "/etc/clmr/clmr.conf";

    /** Plausible values of the variables the files reference, for the configuration to validate. */
    private static final Map<String, String> VALUES = Map.of(
            "POD_NAME", "clmr-coordinator-0", "POD_IP", "10.1.2.3", "CLMR_HOST", "10.0.0.11",
            "CLMR_SEED_NODES", "10.0.0.10:25520", "CLMR_DATASET", "/srv/clmr/dataset",
            "CLMR_DB_URL", "jdbc:postgresql://db:5432/clmr", "CLMR_DB_USER", "clmr", "CLMR_DB_PASSWORD", "secret");

    @Test
    void shouldRunOnlyExistingCommandsOptionsAndKeysInTheKubernetesManifests() throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Path f : files(K8S, ".yaml")) {
            for (Object doc : yaml().loadAll(Files.readString(f))) {
                Map<String, Object> d = map(doc, f.toString());
                assertTrue(d.containsKey("apiVersion") && d.containsKey("kind"), f + ": a document without apiVersion/kind");
                assertTrue(map(d.get("metadata"), f + " metadata").containsKey("name"), f + ": a document without a name");
                d.put("_file", f.toString());
                docs.add(d);
            }
        }
        String conf = docs.stream().filter(d -> d.get("kind").equals("ConfigMap")).findFirst()
                .map(d -> (String) map(d.get("data"), "ConfigMap data").get("clmr.conf"))
                .orElseThrow(() -> new AssertionError("no ConfigMap with clmr.conf in " + K8S));
        Map<String, Set<String>> gpuPools = new HashMap<>();
        List<String> commands = new ArrayList<>();
        boolean headless = false;
        for (Map<String, Object> d : docs) {
            String where = d.get("_file") + " " + d.get("kind") + " " + map(d.get("metadata"), "").get("name");
            if (d.get("kind").equals("Service")) {
                headless |= "None".equals(map(d.get("spec"), where).get("clusterIP"));
            }
            if (!List.of("StatefulSet", "Deployment").contains(d.get("kind"))) {
                continue;
            }
            Map<String, Object> pod = map(map(map(d.get("spec"), where).get("template"), where).get("spec"), where);
            for (Object c : (List<?>) pod.get("containers")) {
                Map<String, Object> container = map(c, where);
                Map<String, String> env = new HashMap<>();
                List<String> jvm = new ArrayList<>();
                for (Object e : (List<?>) container.getOrDefault("env", List.of())) {
                    Map<String, Object> var = map(e, where);
                    String name = (String) var.get("name");
                    env.put(name, VALUES.getOrDefault(name, "x"));
                    if (name.equals("JAVA_OPTS")) {
                        jvm.addAll(Arrays.asList(((String) var.get("value")).split("\\s+")));
                    }
                }
                List<String> args = new ArrayList<>();
                for (Object a : (List<?>) container.get("args")) {
                    args.add(CommandCheck.substitute(a.toString(), env, where));
                }
                Path config = CommandCheck.resolvedConfig(conf, env, where + " (ConfigMap clmr.conf)");
                List<String> chain = CommandCheck.check(args, Map.of(CONFIG_PATH, config), jvm, where);
                commands.add(String.join(" ", chain));
                if (chain.equals(List.of("worker"))) {
                    Map<String, Object> limits = map(map(container.get("resources"), where).get("limits"), where);
                    assertEquals(1, limits.get("nvidia.com/gpu"), where + ": one GPU per worker pod");
                    assertTrue(args.contains("cuda:0"), where + ": the pod's one GPU is cuda:0");
                    Map<String, Object> selector = map(pod.get("nodeSelector"), where + " nodeSelector");
                    gpuPools.computeIfAbsent(String.valueOf(selector.get("nvidia.com/gpu.product")), k -> new HashSet<>())
                            .add(where);
                }
            }
        }
        assertTrue(commands.contains("coordinator") && commands.contains("worker"), "commands found: " + commands);
        assertTrue(headless, "a headless Service gives the coordinator a stable DNS name for seed nodes");
        assertTrue(gpuPools.size() >= 2 && gpuPools.values().stream().allMatch(s -> s.size() == 1),
                "one worker pool per GPU type: " + gpuPools);
    }

    @Test
    void shouldRunOnlyExistingCommandsOptionsAndKeysInTheSystemdUnits() throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        List<String> jvm = new ArrayList<>();
        for (String line : Files.readAllLines(SYSTEMD.resolve("clmr.env"))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            assertTrue(eq > 0, "clmr.env: not KEY=VALUE: " + line);
            env.put(line.substring(0, eq), line.substring(eq + 1));
            if (line.startsWith("CLMR_JAVA_OPTS=")) {
                jvm.addAll(Arrays.asList(line.substring(eq + 1).split("\\s+")));
            }
        }
        Map<String, String> values = new HashMap<>(env);
        values.put("CLMR_DB_PASSWORD", "secret");
        Path config = CommandCheck.resolvedConfig(Files.readString(SYSTEMD.resolve("clmr.conf")), values,
                "systemd/clmr.conf");
        List<String> commands = new ArrayList<>();
        for (Path unit : files(SYSTEMD, ".service")) {
            Map<String, String> service = section(unit, "Service");
            assertEquals("/etc/clmr/clmr.env", service.get("EnvironmentFile"), unit + ": EnvironmentFile");
            assertEquals("on-failure", service.get("Restart"), unit + ": a drained or finished worker (exit 0) stays"
                    + " stopped, a failed one is restarted");
            assertTrue(section(unit, "Install").containsKey("WantedBy"), unit + ": [Install] WantedBy");
            String exec = service.get("ExecStart");
            List<String> words = new ArrayList<>(Arrays.asList(exec.split("\\s+")));
            assertEquals("/opt/clmr/clmr", words.remove(0), unit + ": ExecStart runs the launcher");
            List<String> args = new ArrayList<>();
            for (String w : words) {
                args.add(CommandCheck.substitute(w.replace("%i", "cuda:0"), values, unit.toString()));
            }
            commands.add(String.join(" ", CommandCheck.check(args, Map.of(CONFIG_PATH, config), jvm, unit.toString())));
        }
        assertEquals(List.of("coordinator", "worker"), commands.stream().sorted().toList());
    }

    private static Map<String, String> section(Path unit, String name) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        String current = null;
        for (String line : Files.readAllLines(unit)) {
            String l = line.trim();
            if (l.startsWith("[")) {
                current = l.substring(1, l.length() - 1);
            } else if (name.equals(current) && !l.isEmpty() && !l.startsWith("#")) {
                int eq = l.indexOf('=');
                assertTrue(eq > 0, unit + ": not Key=Value in [" + name + "]: " + l);
                out.put(l.substring(0, eq), l.substring(eq + 1));
            }
        }
        assertFalse(out.isEmpty(), unit + ": no [" + name + "] section");
        return out;
    }

    private static List<Path> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = s.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
            assertFalse(out.isEmpty(), "no *" + suffix + " in " + dir.toAbsolutePath());
            return out;
        }
    }

    private static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String where) {
        assertTrue(o instanceof Map, where + ": expected a mapping, got " + o);
        return (Map<String, Object>) o;
    }
}
