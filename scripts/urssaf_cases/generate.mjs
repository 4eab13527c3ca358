// Reference payslips from URSSAF's public model (npm modele-social 11.1.0 evaluated by publicodes 1.10.3,
// the rules behind the mon-entreprise salary simulator), for the cases of issue 14 the six public
// oracles do not cover: health cover (mutuelle), overtime, an employer of 50 or more (PEEC, FNAL 0.50 %,
// forfait social), the RGDU's 3-SMIC boundary. Writes tests/data/urssaf-extra-2026.json in the shape of
// tests/data/payroll-2026-public.json (situation, totals, lines); the tests read that file, never npm.
//
//   cd scripts/urssaf_cases && npm ci && node generate.mjs
//
// The model does not round per line: amounts are written to the cent, compared within 0.01 EUR a line
// and 0.05 EUR a total. Known defects (../shared/oracles/README.md): the model's net imposable of a cadre
// includes the employer's prévoyance; from June 2026 its RGDU uses the June SMIC. Every case here is a
// January 2026 non-cadre, so neither applies.
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Engine from 'publicodes'
import rules from 'modele-social'

const here = dirname(fileURLToPath(import.meta.url))
const OUT = join(here, '..', '..', 'tests', 'data', 'urssaf-extra-2026.json')

const BASE = {
  date: '01/01/2026',
  'salarié . contrat': "'CDI'",
  'salarié . contrat . statut cadre': 'non',
  'entreprise . salariés . effectif . seuil': "'moins de 5'",
  'salarié . cotisations . prévoyances . santé . montant': '0 €/mois',
  'entreprise . TVA': 'oui',
  'entreprise . association non lucrative': 'non',
  'salarié . contrat . temps de travail . temps partiel': 'non',
}

const CASES = [
  { id: 'x-mutuelle-80-50', note: 'mutuelle 80 EUR, employer 50 %, fewer than 5 employees (no forfait social)',
    situation: { 'salarié . contrat . salaire brut': '2200 €/mois', 'salarié . cotisations . prévoyances . santé . montant': '80 €/mois' } },
  { id: 'x-mutuelle-90-60-effectif-11', note: 'mutuelle 90 EUR, employer 60 %, 11 to 19 employees (forfait social 8 %)',
    situation: { 'salarié . contrat . salaire brut': '2600 €/mois', 'salarié . cotisations . prévoyances . santé . montant': '90 €/mois',
      'salarié . cotisations . prévoyances . santé . taux employeur': '60 %', 'entreprise . salariés . effectif . seuil': "'moins de 20'" } },
  { id: 'x-heures-sup-10', note: '10 overtime hours at 25 %, fewer than 5 employees (1.50 EUR an hour)',
    situation: { 'salarié . contrat . salaire brut': '2200 €/mois', 'salarié . temps de travail . heures supplémentaires': '10 heure/mois' } },
  { id: 'x-heures-sup-8-effectif-20', note: '8 overtime hours, 20 to 49 employees (0.50 EUR an hour)',
    situation: { 'salarié . contrat . salaire brut': '3000 €/mois', 'salarié . temps de travail . heures supplémentaires': '8 heure/mois',
      'entreprise . salariés . effectif . seuil': "'moins de 50'" } },
  { id: 'x-effectif-50', note: '50 to 149 employees: PEEC 0.45 %, FNAL 0.50 % of the whole gross, Tdelta 0.3821',
    situation: { 'salarié . contrat . salaire brut': '2500 €/mois', 'entreprise . salariés . effectif . seuil': "'moins de 150'" } },
  { id: 'x-effectif-50-mutuelle', note: '50 to 149 employees with a mutuelle of 100 EUR at 50 %',
    situation: { 'salarié . contrat . salaire brut': '4200 €/mois', 'entreprise . salariés . effectif . seuil': "'moins de 150'",
      'salarié . cotisations . prévoyances . santé . montant': '100 €/mois' } },
  { id: 'x-3smic-5469.09', note: 'just below 3 SMIC (5 469.10): RGDU at Tmin, 109.38 EUR',
    situation: { 'salarié . contrat . salaire brut': '5469.09 €/mois' } },
  { id: 'x-3smic-5469.10', note: '3 SMIC exactly: no RGDU',
    situation: { 'salarié . contrat . salaire brut': '5469.10 €/mois' } },
]

const TOTALS = {
  brut: 'salarié . rémunération . brut',
  cotisations_salariales: 'salarié . cotisations . salarié',
  cotisations_patronales: 'salarié . cotisations . employeur',
  rgdu: 'salarié . cotisations . exonérations . RGDU',
  net_avant_impot: 'salarié . rémunération . net . à payer avant impôt',
  net_imposable: 'salarié . rémunération . net . imposable',
  montant_net_social: 'salarié . rémunération . montant net social',
  cout_total_employeur: 'salarié . coût total employeur',
}

// eage line (side, code) -> the model's rule.
const LINES = [
  ['salarié', 'mutuelle', 'salarié . cotisations . prévoyances . santé . salarié'],
  ['employeur', 'mutuelle', 'salarié . cotisations . prévoyances . santé . employeur'],
  ['employeur', 'fnal', 'salarié . cotisations . FNAL'],
  ['employeur', 'peec', 'salarié . cotisations . PEEC'],
  ['employeur', 'forfait_social', 'salarié . cotisations . forfait social'],
  ['salarié', 'hs_reduction_salariale', 'salarié . cotisations . exonérations . heures supplémentaires . salarié'],
  ['employeur', 'hs_deduction_patronale', 'salarié . cotisations . exonérations . heures supplémentaires . employeur'],
  ['salarié', 'csg_ded', 'salarié . cotisations . CSG-CRDS . CSG . déductible'],
  ['salarié', 'crds', 'salarié . cotisations . CSG-CRDS . CRDS'],
  ['salarié', 'csg_hs', 'salarié . cotisations . CSG-CRDS . sur revenus non imposables'],
]

const engine = new Engine(rules, { logger: { log() {}, warn() {}, error() {} } })
const perMonth = (name) => {
  const node = engine.evaluate({ valeur: name, unité: '€/mois' })
  return typeof node.nodeValue === 'number' ? node.nodeValue : 0
}
const cents = (x) => Math.round(x * 100) / 100

const out = CASES.map(({ id, note, situation }) => {
  const full = { ...BASE, ...situation }
  engine.setSituation(full)
  const totals = Object.fromEntries(Object.entries(TOTALS).map(([key, rule]) => [key, cents(perMonth(rule))]))
  totals.heures_sup_exonerees = cents(perMonth('salarié . rémunération . net . imposable . heures supplémentaires et complémentaires défiscalisées'))
  const lines = []
  for (const [side, code, rule] of LINES) {
    const amount = cents(perMonth(rule))
    if (amount) lines.push({ side, code, rule, amount })
  }
  return { id, note, date: full.date, situation: full, totals, lines }
})
writeFileSync(OUT, JSON.stringify(out, null, 1) + '\n')
console.log(`wrote ${out.length} cases to ${OUT}`)
