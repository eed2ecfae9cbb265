package org.clmr.data.augment;

import java.util.List;

/**
 * One parameter of an augmentation as {@code clmr augment --list} shows it and {@code --set name.param=value}
 * fixes it: its name, unit, the range it is drawn from, and for a choice the names of its values (the value is
 * then the index of the name).
 */
public record Parameter(String name, String unit, double min, double max, List<String> choices, String note) {

    /** A continuous parameter drawn from [min, max]. */
    public static Parameter range(String name, String unit, double min, double max, String note) {
        return new Parameter(name, unit, min, max, List.of(), note);
    }

    /** A choice between named values; its numeric value is the index into {@code choices}. */
    public static Parameter choice(String name, List<String> choices, String note) {
        return new Parameter(name, "", 0, choices.size() - 1, List.copyOf(choices), note);
    }

    /**
     * Parses a value given on the command line: a choice's name or index, or a number.
     *
     * @throws IllegalArgumentException naming the parameter and what it accepts
     */
    public double parse(String text) {
        String t = text.trim();
        if (!choices.isEmpty()) {
            int i = choices.indexOf(t);
            if (i >= 0) {
                return i;
            }
        }
        double v;
        try {
            v = Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " expects " + accepts() + ", got '" + text + "'");
        }
        if (!Double.isFinite(v) || (!choices.isEmpty() && (v != Math.rint(v) || v < 0 || v >= choices.size()))) {
            throw new IllegalArgumentException(name + " expects " + accepts() + ", got '" + text + "'");
        }
        return v;
    }

    /** What {@link #parse} accepts, for messages and listings. */
    public String accepts() {
        return choices.isEmpty() ? "a number (" + unit + ")" : "one of " + String.join("|", choices);
    }

    /** The drawn range, human-readable. */
    public String rangeText() {
        if (!choices.isEmpty()) {
            return String.join(" | ", choices);
        }
        String u = unit.isEmpty() ? "" : " " + unit;
        return min == max ? fmt(min) + u : fmt(min) + " .. " + fmt(max) + u;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e18 ? Long.toString((long) v) : Double.toString(v);
    }
}
