package org.clmr.ops;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.util.Map.entry;

/**
 * The allowed range of every count and size on the command line, checked before a command runs: a value out of
 * range (zero and negative ones included) is refused as bad usage (exit 2) with one line naming the option, the
 * value and what is allowed. Keys are a command's path below {@code clmr} and the option's name; an option of a
 * numeric type without an entry here fails {@code OptionRangesTest}, so a new one cannot be forgotten.
 * Configuration keys are checked the same way by each module's Settings (ConfigReader). Stateless.
 */
public final class OptionRanges {
    /** A closed range, or one open at its lower end ({@code (min, max]}). */
    record Range(double min, boolean minOpen, double max, boolean integer) {
        static Range ints(long min, long max) {
            return new Range(min, false, max, true);
        }

        static Range above(double min, double max) {
            return new Range(min, true, max, false);
        }

        static Range reals(double min, double max) {
            return new Range(min, false, max, false);
        }

        boolean contains(double v) {
            return (minOpen ? v > min : v >= min) && v <= max;
        }

        String describe() {
            return "must be " + (integer ? "an integer" : "a number") + " in " + (minOpen ? "(" : "[")
                    + show(min) + ", " + show(max) + "]";
        }

        private static String show(double v) {
            if (v >= Long.MAX_VALUE) {
                return "" + Long.MAX_VALUE;
            }
            return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.valueOf(v);
        }
    }

    private static final long MAX = Long.MAX_VALUE;
    private static final Map<String, Range> RANGES = Map.ofEntries(
            entry("model --projection-dim", Range.ints(1, 65536)),
            entry("export --probe-batch", Range.ints(1, 4096)),
            entry("train --batch", Range.ints(2, 1_000_000)),
            entry("train --epochs", Range.ints(1, Integer.MAX_VALUE)),
            entry("train --steps", Range.ints(1, MAX)),
            entry("train --workers", Range.ints(1, 1024)),
            entry("augment --seed", Range.ints(Long.MIN_VALUE, MAX)),
            entry("prepare --sample-rate", Range.ints(1000, 384_000)),
            entry("prepare --jobs", Range.ints(0, 1024)),
            entry("prepare --min-seconds", Range.reals(0, 3600)),
            entry("prepare --generate", Range.ints(1, 10_000_000)),
            entry("prepare --seed", Range.ints(Long.MIN_VALUE, MAX)),
            entry("prepare --seconds", Range.above(0, 3600)),
            entry("evaluate --label-fraction", Range.above(0, 1)),
            entry("evaluate --seeds", Range.ints(1, 100)),
            entry("demo --tracks", Range.ints(8, 1_000_000)),
            entry("demo --seconds", Range.above(0, 3600)),
            entry("demo --epochs", Range.ints(1, 100_000)),
            entry("demo --batch", Range.ints(4, 1_000_000)),
            entry("demo --workers", Range.ints(1, 64)),
            entry("demo --eval-epochs", Range.ints(1, 100_000)),
            entry("keys init --days", Range.ints(1, 36_500)),
            entry("keys node --days", Range.ints(1, 36_500)),
            entry("keys init --rsa-bits", Range.ints(2048, 16384)),
            entry("keys node --rsa-bits", Range.ints(2048, 16384)),
            entry("control --tracks", Range.ints(1, MAX)),
            entry("worker --max-restarts", Range.ints(0, 1000)),
            entry("bench model --projection-dim", Range.ints(1, 65536)),
            entry("bench model --batch", Range.ints(1, 1_000_000)),
            entry("bench model --iterations", Range.ints(1, 1_000_000)),
            entry("bench model --warmup", Range.ints(0, 1_000_000)),
            entry("bench model --max-warmup", Range.ints(0, 1_000_000)),
            entry("bench model --threads", Range.ints(0, 1024)),
            entry("bench augment --seconds", Range.above(0, 3600)),
            entry("bench augment --crops", Range.ints(1, 1_000_000)),
            entry("bench augment --crop-length", Range.ints(1024, 10_000_000)),
            entry("bench allreduce --ranks", Range.ints(2, 64)),
            entry("bench allreduce --iterations", Range.ints(1, 1_000_000)),
            entry("bench allreduce --latency-iterations", Range.ints(10, 10_000_000)),
            entry("bench allreduce --mtu", Range.ints(1024, 65504)),
            entry("bench allreduce --rounds", Range.ints(1, 50)),
            entry("bench data --threads", Range.ints(1, 256)),
            entry("bench data --seconds", Range.above(0, 3600)),
            entry("bench data --crop", Range.ints(1, 10_000_000)),
            entry("bench step --projection-dim", Range.ints(1, 65536)),
            entry("bench step --ranks", Range.ints(1, 64)),
            entry("bench step --batch", Range.ints(1, 1_000_000)),
            entry("bench step --iterations", Range.ints(1, 1_000_000)),
            entry("bench step --warmup", Range.ints(0, 1_000_000)),
            entry("bench step --max-warmup", Range.ints(0, 1_000_000)),
            entry("bench step --threads", Range.ints(0, 1024)),
            entry("bench step --bucket-elements", Range.ints(1, Integer.MAX_VALUE)));

    private OptionRanges() {
    }

    /** Picocli's execution strategy with the ranges checked first; a value out of range is a usage error. */
    static CommandLine.IExecutionStrategy checkingFirst() {
        return parseResult -> {
            check(parseResult);
            return new CommandLine.RunLast().execute(parseResult);
        };
    }

    /** Checks every option given on this command line and its subcommands'. */
    static void check(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
            for (OptionSpec o : p.matchedOptions()) {
                Optional<Range> range = rangeOf(p.commandSpec().qualifiedName(" "), o);
                Object value = o.getValue();
                if (range.isPresent() && value instanceof Number n && !range.get().contains(n.doubleValue())) {
                    throw new CommandLine.ParameterException(p.commandSpec().commandLine(), o.longestName() + " = "
                            + value + ": " + range.get().describe());
                }
            }
        }
    }

    /** The range of option {@code o} of the command named {@code qualified} ("clmr bench model"), if any. */
    static Optional<Range> rangeOf(String qualified, OptionSpec o) {
        String command = qualified.startsWith("clmr ") ? qualified.substring(5) : qualified;
        return Optional.ofNullable(RANGES.get(command + " " + o.longestName()));
    }

    /** Every numeric option of every command, as "command --option" (what the ranges must cover). */
    static List<String> numericOptions(CommandLine root) {
        List<String> out = new ArrayList<>();
        collect(root, out);
        return out;
    }

    private static void collect(CommandLine cl, List<String> out) {
        for (OptionSpec o : cl.getCommandSpec().options()) {
            Class<?> t = o.type();
            if (Number.class.isAssignableFrom(t) || (t.isPrimitive() && t != boolean.class && t != char.class)) {
                String q = cl.getCommandSpec().qualifiedName(" ");
                out.add((q.startsWith("clmr ") ? q.substring(5) : q) + " " + o.longestName());
            }
        }
        cl.getSubcommands().values().forEach(sub -> collect(sub, out));
    }
}
