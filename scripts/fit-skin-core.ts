/**
 * Fits the skin (inner canthus) → core (oral) model on the FDA/PhysioNet facial–oral data and
 * compares candidate models with subject-level k-fold cross-validation (same seeded folds for all).
 *
 *   node bin/run-ts.js scripts/fit-skin-core.ts [--data DIR] [--folds 10] [--seed 20240501] [--write]
 *
 * Dev tool, not a test: it reads the data directory (default /work/shared/data/fda-facial-oral-train).
 * With --write it writes firmware-config/skin-core-model.json (chosen model + provenance) and the
 * compact fixture test/fixtures/fda/fda-canthus-oral.csv used by the unit tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  constantOffsetModel,
  covariateValue,
  estimateCoreC,
  type SkinCoreCovariate,
  type SkinCoreCovariateName,
  type SkinCoreInput,
  type SkinCoreModel,
} from '../calibration/skinCore.ts';

const FEVER_ORAL_C = 37.5;
const THRESHOLD_C = 37.5;
/** Width of the retest band below the threshold, as in calibration/decision.ts defaults. */
const RETEST_BAND_C = 0.3;

interface Row extends SkinCoreInput {
  subjectId: string;
  camera: 'FLIR' | 'ICI';
  oralC: number;
  /** Each round's canthiMax, for single-shot evaluation. */
  roundCanthusC: number[];
}

function parseArgs(argv: string[]) {
  const args = {
    data: '/work/shared/data/fda-facial-oral-train',
    folds: 10,
    seed: 20240501,
    write: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--data') args.data = argv[++i];
    else if (a === '--folds') args.folds = Number(argv[++i]);
    else if (a === '--seed') args.seed = Number(argv[++i]);
    else if (a === '--write') args.write = true;
    else throw new Error(`unknown argument ${a}; allowed: --data DIR, --folds N, --seed N, --write`);
  }
  return args;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const numberOrNull = (s: string | undefined): number | null => {
  if (s === undefined || s.trim() === '') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
};
const inRangeOrNull = (v: number | null, min: number, max: number): number | null =>
  v !== null && v >= min && v <= max ? v : null;

/** Reads the four CSVs (three header rows, CRLF); one row per subject and camera, rounds averaged. */
function loadRows(dir: string): Row[] {
  const rows: Row[] = [];
  for (const file of ['FLIR_group1', 'FLIR_group2', 'ICI_group1', 'ICI_group2']) {
    const lines = fs
      .readFileSync(path.join(dir, `${file}.csv`), 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.length > 0);
    const header = lines[2].split(',');
    const col = (name: string): number => {
      const i = header.indexOf(name);
      if (i < 0) throw new Error(`${file}.csv: column ${name} not found in the third header row`);
      return i;
    };
    for (const line of lines.slice(3)) {
      const cells = line.split(',');
      const rounds = (base: string): number[] =>
        [1, 2, 3, 4]
          .map((r) => numberOrNull(cells[col(`${base}${r}`)]))
          .filter((v): v is number => v !== null && v > 20);
      const canthus = rounds('canthiMax');
      const oral = numberOrNull(cells[col('aveOralM')]);
      if (canthus.length === 0 || oral === null) continue;
      const faceMax = rounds('T_Max');
      const forehead = rounds('T_FH_Max');
      rows.push({
        subjectId: cells[col('SubjectID')],
        camera: file.startsWith('FLIR') ? 'FLIR' : 'ICI',
        oralC: oral,
        canthusC: mean(canthus),
        roundCanthusC: canthus,
        faceMaxC: faceMax.length ? mean(faceMax) : null,
        foreheadC: forehead.length ? mean(forehead) : null,
        // A few entries are typing slips (humidity 3021.1, distance 79): treat implausible values as missing.
        ambientC: inRangeOrNull(numberOrNull(cells[col('T_atm')]), 5, 45),
        humidityPct: inRangeOrNull(numberOrNull(cells[col('Humidity')]), 0, 100),
        distanceM: inRangeOrNull(numberOrNull(cells[col('Distance')]), 0.2, 3),
      });
    }
  }
  return rows;
}

/** mulberry32: small seeded PRNG so the folds are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Subject-level folds: a subject seen by both cameras is never split between train and test. */
function subjectFolds(rows: Row[], k: number, seed: number): Map<string, number> {
  const subjects = [...new Set(rows.map((r) => r.subjectId))].sort();
  const random = prng(seed);
  for (let i = subjects.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [subjects[i], subjects[j]] = [subjects[j], subjects[i]];
  }
  return new Map(subjects.map((s, i) => [s, i % k]));
}

/** Solves the normal equations (small, dense) by Gaussian elimination with partial pivoting. */
function leastSquares(X: number[][], y: number[], ridge = 0): number[] {
  const p = X[0].length;
  const A = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
  for (let n = 0; n < X.length; n++) {
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) A[i][j] += X[n][i] * X[n][j];
      A[i][p] += X[n][i] * y[n];
    }
  }
  for (let i = 1; i < p; i++) A[i][i] += ridge;
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(A[r][c]) > Math.abs(A[pivot][c])) pivot = r;
    [A[c], A[pivot]] = [A[pivot], A[c]];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let j = c; j <= p; j++) A[r][j] -= f * A[c][j];
    }
  }
  return A.map((row, i) => row[p] / row[i]);
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** A fitted estimator: the offset models go through calibration/skinCore.ts, the contrasts are plain lines. */
type Estimator = (input: SkinCoreInput) => number;
interface Candidate {
  name: string;
  description: string;
  fit: (train: Row[]) => { estimate: Estimator; model?: SkinCoreModel; slope: number };
}

const BOUNDS = {
  maxTermC: 0.3,
  maxCovariateSumC: 0.4,
};

function fitOffsetWithCovariates(train: Row[], names: SkinCoreCovariateName[]): SkinCoreModel {
  const centres = names.map((n) => {
    const values = train.map((r) => covariateValue(n, r)).filter((v): v is number => v !== null);
    return mean(values);
  });
  const ranges = names.map((n): [number, number] => {
    const values = train
      .map((r) => covariateValue(n, r))
      .filter((v): v is number => v !== null)
      .sort((a, b) => a - b);
    return [quantile(values, 0.01), quantile(values, 0.99)];
  });
  // Missing covariates are imputed at the centre (the runtime does the same: a missing term is zero).
  const X = train.map((r) => [
    1,
    ...names.map((n, i) => {
      const v = covariateValue(n, r);
      return v === null ? 0 : Math.min(ranges[i][1], Math.max(ranges[i][0], v)) - centres[i];
    }),
  ]);
  const y = train.map((r) => r.oralC - r.canthusC);
  const beta = leastSquares(X, y);
  const covariates: SkinCoreCovariate[] = names.map((name, i) => ({
    name,
    centreValue: round(centres[i], 4),
    coefficientCPerUnit: round(beta[i + 1], 5),
    validRange: [round(ranges[i][0], 3), round(ranges[i][1], 3)],
    maxTermC: BOUNDS.maxTermC,
  }));
  return {
    kind: 'canthus-offset',
    canthusSlope: 1,
    offsetC: round(beta[0], 4),
    covariates,
    maxCovariateSumC: BOUNDS.maxCovariateSumC,
  };
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

const candidates: Candidate[] = [
  {
    name: 'constant-offset',
    description: 'core = canthus + mean(oral − canthus) of the training folds (baseline, Wang et al. 2022)',
    fit: (train) => {
      const model = constantOffsetModel(round(mean(train.map((r) => r.oralC - r.canthusC)), 4));
      return { estimate: (i) => estimateCoreC(i, model).estimatedCoreC, model, slope: 1 };
    },
  },
  {
    name: 'offset+ambient',
    description: 'slope 1 on canthus + bounded ambient term',
    fit: (train) => {
      const model = fitOffsetWithCovariates(train, ['ambientC']);
      return { estimate: (i) => estimateCoreC(i, model).estimatedCoreC, model, slope: 1 };
    },
  },
  {
    name: 'offset+covariates',
    description:
      'slope 1 on canthus + bounded terms for ambient, humidity, distance, face max above canthus, forehead below canthus',
    fit: (train) => {
      const model = fitOffsetWithCovariates(train, [
        'ambientC',
        'humidityPct',
        'distanceM',
        'faceMaxAboveCanthusC',
        'foreheadBelowCanthusC',
      ]);
      return { estimate: (i) => estimateCoreC(i, model).estimatedCoreC, model, slope: 1 };
    },
  },
  {
    name: 'ols (contrast only)',
    description: 'oral = a + b·canthus by ordinary least squares — regresses toward the mean, never shipped',
    fit: (train) => {
      const [a, b] = leastSquares(
        train.map((r) => [1, r.canthusC]),
        train.map((r) => r.oralC),
      );
      return { estimate: (i) => a + b * i.canthusC, slope: b };
    },
  },
  {
    name: 'orthogonal (contrast only)',
    description:
      'Deming regression with equal error variances (orthogonal): slope > 1, amplifies canthus noise',
    fit: (train) => {
      const mx = mean(train.map((r) => r.canthusC));
      const my = mean(train.map((r) => r.oralC));
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (const r of train) {
        sxx += (r.canthusC - mx) ** 2;
        syy += (r.oralC - my) ** 2;
        sxy += (r.canthusC - mx) * (r.oralC - my);
      }
      const b = (syy - sxx + Math.sqrt((syy - sxx) ** 2 + 4 * sxy * sxy)) / (2 * sxy);
      const a = my - b * mx;
      return { estimate: (i) => a + b * i.canthusC, slope: b };
    },
  },
];

/** ROC AUC as the Mann–Whitney probability that a febrile row scores above an afebrile one (ties ½). */
function rocAuc(scores: number[], positive: boolean[]): number {
  const order = scores.map((s, i) => ({ s, p: positive[i] })).sort((a, b) => a.s - b.s);
  let rankSumPositive = 0;
  let nPos = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j].s === order[i].s) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (order[k].p) {
        rankSumPositive += averageRank;
        nPos++;
      }
    }
    i = j;
  }
  const nNeg = order.length - nPos;
  return (rankSumPositive - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

interface Figures {
  n: number;
  febrile: number;
  auc: number;
  sensitivity: number;
  specificity: number;
  /** Elevated or retest (estimate ≥ threshold − retest band) counted as flagged. */
  sensitivityWithRetest: number;
  specificityWithRetest: number;
  maeC: number;
  biasC: number;
  febrileBiasC: number;
}

function figures(estimates: number[], orals: number[]): Figures {
  const positive = orals.map((o) => o >= FEVER_ORAL_C);
  const count = (f: (i: number) => boolean) => estimates.filter((_, i) => f(i)).length;
  const nPos = positive.filter(Boolean).length;
  const nNeg = positive.length - nPos;
  const errors = estimates.map((e, i) => e - orals[i]);
  const retestFloor = THRESHOLD_C - RETEST_BAND_C;
  return {
    n: estimates.length,
    febrile: nPos,
    auc: rocAuc(estimates, positive),
    sensitivity: count((i) => positive[i] && estimates[i] >= THRESHOLD_C) / nPos,
    specificity: count((i) => !positive[i] && estimates[i] < THRESHOLD_C) / nNeg,
    sensitivityWithRetest: count((i) => positive[i] && estimates[i] >= retestFloor) / nPos,
    specificityWithRetest: count((i) => !positive[i] && estimates[i] < retestFloor) / nNeg,
    maeC: mean(errors.map(Math.abs)),
    biasC: mean(errors),
    febrileBiasC: mean(errors.filter((_, i) => positive[i])),
  };
}

function crossValidate(rows: Row[], folds: Map<string, number>, k: number, candidate: Candidate) {
  const averaged: { e: number; o: number }[] = [];
  const singleShot: { e: number; o: number }[] = [];
  const slopes: number[] = [];
  for (let fold = 0; fold < k; fold++) {
    const train = rows.filter((r) => folds.get(r.subjectId) !== fold);
    const test = rows.filter((r) => folds.get(r.subjectId) === fold);
    const { estimate, slope } = candidate.fit(train);
    slopes.push(slope);
    for (const r of test) {
      averaged.push({ e: estimate(r), o: r.oralC });
      for (const c of r.roundCanthusC) singleShot.push({ e: estimate({ ...r, canthusC: c }), o: r.oralC });
    }
  }
  return {
    averaged: figures(
      averaged.map((p) => p.e),
      averaged.map((p) => p.o),
    ),
    singleShot: figures(
      singleShot.map((p) => p.e),
      singleShot.map((p) => p.o),
    ),
    slopeRange: [Math.min(...slopes), Math.max(...slopes)],
  };
}

const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
const c2 = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const rows = loadRows(args.data);
  const folds = subjectFolds(rows, args.folds, args.seed);
  console.log(
    `${rows.length} rows (subject × camera), ${new Set(rows.map((r) => r.subjectId)).size} subjects, ` +
      `${rows.filter((r) => r.oralC >= FEVER_ORAL_C).length} febrile (aveOralM ≥ ${FEVER_ORAL_C} °C); ` +
      `${args.folds}-fold subject-level CV, seed ${args.seed}; threshold ${THRESHOLD_C} °C, retest band ${RETEST_BAND_C} °C`,
  );
  const results = candidates.map((c) => ({ candidate: c, cv: crossValidate(rows, folds, args.folds, c) }));
  const header =
    '| model | canthus slope | AUC | sens @37.5 | spec @37.5 | sens incl. retest | spec incl. retest | MAE °C | bias °C | febrile bias °C |';
  for (const which of ['averaged', 'singleShot'] as const) {
    console.log(
      `\n${which === 'averaged' ? 'Rounds averaged per subject and camera' : 'Single rounds (one reading per round)'}`,
    );
    console.log(header);
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const { candidate, cv } of results) {
      const f = cv[which];
      const slope =
        cv.slopeRange[0] === cv.slopeRange[1]
          ? cv.slopeRange[0].toFixed(2)
          : `${cv.slopeRange[0].toFixed(2)}–${cv.slopeRange[1].toFixed(2)}`;
      console.log(
        `| ${candidate.name} | ${slope} | ${f.auc.toFixed(3)} | ${pct(f.sensitivity)} | ${pct(f.specificity)} | ` +
          `${pct(f.sensitivityWithRetest)} | ${pct(f.specificityWithRetest)} | ${f.maeC.toFixed(3)} | ` +
          `${c2(f.biasC)} | ${c2(f.febrileBiasC)} |`,
      );
    }
  }

  // Choice: the covariate model ships only if it beats the constant offset on MAE and AUC without a more
  // negative febrile bias; otherwise the simpler constant offset ships. Contrast models never ship.
  const baseline = results[0];
  const shippable = results.filter((r) => !r.candidate.name.includes('contrast'));
  let chosen = baseline;
  for (const r of shippable.slice(1)) {
    const a = r.cv.averaged;
    const b = chosen.cv.averaged;
    if (a.maeC < b.maeC - 0.005 && a.auc > b.auc && a.febrileBiasC >= b.febrileBiasC - 0.02) chosen = r;
  }
  console.log(`\nchosen: ${chosen.candidate.name}`);
  const fitted = chosen.candidate.fit(rows).model!;
  console.log(JSON.stringify(fitted, null, 2));

  if (args.write) {
    const out = {
      $comment:
        'Skin (inner canthus) → core (oral) model. Written by scripts/fit-skin-core.ts; see docs/skin-core-model.md.',
      model: fitted,
      provenance: {
        data:
          'FDA/PhysioNet "Facial and oral temperature data from a large set of human subject volunteers" v1.0.0 ' +
          '(Wang et al., doi:10.13026/3bhc-9065, CC0 1.0), 60 % subject subset (shared/data/fda-facial-oral-train)',
        groundTruth: 'aveOralM (oral thermometer, monitor mode); fever = aveOralM ≥ 37.5 °C',
        canthusColumn: 'canthiMax1..4 averaged per subject and camera (already blackbody-offset corrected)',
        rows: rows.length,
        subjects: new Set(rows.map((r) => r.subjectId)).size,
        fittedAt: new Date().toISOString().slice(0, 10),
        command: `node bin/run-ts.js scripts/fit-skin-core.ts --folds ${args.folds} --seed ${args.seed} --write`,
        crossValidation: {
          folds: args.folds,
          seed: args.seed,
          grouping: 'subject (a subject seen by both cameras stays in one fold)',
          thresholdC: THRESHOLD_C,
          retestBandC: RETEST_BAND_C,
          chosen: roundFigures(chosen.cv.averaged),
          chosenSingleShot: roundFigures(chosen.cv.singleShot),
          constantOffsetBaseline: roundFigures(baseline.cv.averaged),
          constantOffsetBaselineSingleShot: roundFigures(baseline.cv.singleShot),
        },
      },
    };
    fs.writeFileSync('firmware-config/skin-core-model.json', `${JSON.stringify(out, null, 2)}\n`);
    fs.mkdirSync('test/fixtures/fda', { recursive: true });
    const fmt = (v: number | null | undefined): string => (typeof v === 'number' ? String(round(v, 3)) : '');
    const csv = [
      'subjectId,camera,canthusC,faceMaxC,foreheadC,ambientC,humidityPct,distanceM,oralC',
      ...rows.map((r) =>
        [
          r.subjectId,
          r.camera,
          fmt(r.canthusC),
          fmt(r.faceMaxC),
          fmt(r.foreheadC),
          fmt(r.ambientC),
          fmt(r.humidityPct),
          fmt(r.distanceM),
          fmt(r.oralC),
        ].join(','),
      ),
    ].join('\n');
    fs.writeFileSync('test/fixtures/fda/fda-canthus-oral.csv', `${csv}\n`);
    console.log('wrote firmware-config/skin-core-model.json and test/fixtures/fda/fda-canthus-oral.csv');
  }
}

function roundFigures(f: Figures): Record<string, number> {
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, round(v, 4)]));
}

main();
