package org.clmr.worker.model;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.lang.reflect.Field;
import java.util.Map;

/**
 * What a tree of DJL managers holds: every manager below a root (the root included) and every array or
 * other native resource attached to one of them. A resource that a step forgets to close, or a manager that
 * DJL's {@code toDevice} creates and never closes, shows up here as growth from step to step. DJL keeps a
 * manager's resources in a protected map and offers no count of its own, so it is read by reflection. Read
 * it on the thread that uses the managers, between steps.
 */
public final class NativeResources {
    private static final Field RESOURCES = field("resources");
    private static final Field TEMP_RESOURCES = field("tempResources");

    private NativeResources() {
    }

    /**
     * The count of a tree.
     *
     * @param managers managers, the root included
     * @param arrays   arrays attached to any of them
     * @param others   other resources attached to any of them (symbols, buffers of other engines)
     */
    public record Count(int managers, int arrays, int others) {
        /** Everything held. */
        public int total() {
            return managers + arrays + others;
        }
    }

    /** Counts everything held by {@code root} and the managers below it. */
    public static Count of(NDManager root) {
        int[] c = new int[3];
        walk(root, c);
        return new Count(c[0], c[1], c[2]);
    }

    private static void walk(NDManager m, int[] c) {
        c[0]++;
        if (!(m instanceof BaseNDManager b)) {
            return;
        }
        for (Object r : map(RESOURCES, b).values()) {
            if (r instanceof NDManager sub) {
                walk(sub, c);
            } else if (r instanceof NDArray) {
                c[1]++;
            } else {
                c[2]++;
            }
        }
        c[2] += map(TEMP_RESOURCES, b).size();
    }

    private static Map<?, ?> map(Field f, BaseNDManager m) {
        try {
            return (Map<?, ?>) f.get(m);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read DJL's " + f.getName() + " of a manager", e);
        }
    }

    private static Field field(String name) {
        try {
            Field f = BaseNDManager.class.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("DJL's BaseNDManager has no field " + name + " (DJL version changed?)", e);
        }
    }
}
