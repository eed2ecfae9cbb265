/**
 * Where plans end and generations start: the plan-boundary desk ({@link org.clmr.coordinator.plan.Boundaries}),
 * the run's shape ({@link org.clmr.coordinator.plan.RunPlanner}: shares, resume points, plan ends), the share split
 * ({@link org.clmr.coordinator.plan.ShareCalculator}), the resume choice, and the members' in-memory progress
 * ({@link org.clmr.coordinator.plan.ProgressTracker}). Depends on {@code desk} and {@code journal}.
 */
package org.clmr.coordinator.plan;
