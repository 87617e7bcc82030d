// The middle of noisy measurements: one outlier (a GC pause, a neighbour's burst) moves it little.
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
