/*
 * Espresso Care dashboard card: custom:espresso-care-card
 *
 * One machine (a device of the espresso_care integration, or its config entry): shots today
 * and in total, shots since the last backflush as a ring against the interval, one chip per
 * maintenance task (details with Mark done and Snooze), the last shot durations against the
 * usual shot time, the shot time drift warning, the machine state and the automated backflush.
 *
 * Served by the integration itself (frontend.py) and loaded on every dashboard, so there is no
 * resource to add. Plain JavaScript, no build step: a custom element with a shadow root that
 * is built once per machine and updated in place on every state change (focus and open dialogs
 * survive updates). Entities are found in the entity registry (hass.entities) by platform,
 * device and translation key, never by guessing entity ids.
 */

const DOMAIN = "espresso_care";
const CARD_TYPE = "espresso-care-card";
const TASKS = ["backflush", "clean", "descale"];
const SNOOZE_DAYS = [1, 3, 7];
// Amber once this share of the backflush interval (or less than a day) is left.
const NEAR_DUE_SHARE = 0.2;

// Every text of the card, in the languages of the integration's translations. Entity states
// (machine state, backflush phase) come translated from Home Assistant itself.
const TEXTS = {
  en: {
    shots_today: "Shots today",
    total_shots: "Total shots",
    since_backflush: "since backflush",
    of_interval: "of {n}",
    task_backflush: "Backflush",
    task_clean: "Detergent clean",
    task_descale: "Descale",
    due: "Due",
    snoozed_until: "Snoozed until {when}",
    in_shots_one: "in {n} shot",
    in_shots_other: "in {n} shots",
    in_days_one: "in {n} day",
    in_days_other: "in {n} days",
    in_less_than_a_day: "in less than a day",
    recent_shots: "Last {n} shots",
    usual_time: "usual {time}",
    no_shots: "No shots yet",
    chart_label: "Durations of the last {n} shots: {list}. Usual shot time {usual}.",
    drift: "Shot time is drifting: recently {recent}, usually {usual}. Check the grind and the dose, or clean the group.",
    machine: "Machine",
    backflush: "Backflush",
    start_backflush: "Start backflush",
    confirm_title: "Start the automated backflush?",
    confirm_text: "Put the blind basket in the portafilter, lock it in the group and keep the machine on. The pump then runs in pulses for a few minutes.",
    start: "Start",
    cancel: "Cancel",
    stop: "Stop",
    running: "Backflush running",
    progress: "Backflush progress",
    cycle: "Cycle {n}",
    arm: "Arm",
    armed: "Armed, {s} s left to start",
    not_armed: "Arm the backflush first: it starts only within a minute of arming.",
    mark_done: "Mark done",
    snooze: "Snooze",
    snooze_for: "Snooze for",
    days_one: "{n} day",
    days_other: "{n} days",
    more_info: "More info",
    close: "Close",
    shots_since: "Shots since",
    last_done: "Last done",
    status: "Status",
    details: "{task}: {status}. Show details",
    no_machine: "No Espresso Care machine found. Set up the integration, or choose a machine in the card's settings.",
    editor_device: "Machine",
    editor_title: "Title (optional)",
    seconds: "{n}\u00a0s",
  },
  de: {
    shots_today: "Bezüge heute",
    total_shots: "Bezüge gesamt",
    since_backflush: "seit Rückspülen",
    of_interval: "von {n}",
    task_backflush: "Rückspülen",
    task_clean: "Reinigen mit Reiniger",
    task_descale: "Entkalken",
    due: "Fällig",
    snoozed_until: "Zurückgestellt bis {when}",
    in_shots_one: "in {n} Bezug",
    in_shots_other: "in {n} Bezügen",
    in_days_one: "in {n} Tag",
    in_days_other: "in {n} Tagen",
    in_less_than_a_day: "in weniger als einem Tag",
    recent_shots: "Letzte {n} Bezüge",
    usual_time: "üblich {time}",
    no_shots: "Noch keine Bezüge",
    chart_label: "Dauer der letzten {n} Bezüge: {list}. Übliche Bezugszeit {usual}.",
    drift: "Die Bezugszeit weicht ab: zuletzt {recent}, üblich {usual}. Mahlgrad und Dosis prüfen oder die Brühgruppe reinigen.",
    machine: "Maschine",
    backflush: "Rückspülen",
    start_backflush: "Rückspülen starten",
    confirm_title: "Automatisches Rückspülen starten?",
    confirm_text: "Blindsieb in den Siebträger legen, Siebträger einspannen und die Maschine eingeschaltet lassen. Die Pumpe läuft dann einige Minuten in Intervallen.",
    start: "Starten",
    cancel: "Abbrechen",
    stop: "Stoppen",
    running: "Rückspülen läuft",
    progress: "Fortschritt des Rückspülens",
    cycle: "Zyklus {n}",
    arm: "Freigeben",
    armed: "Freigegeben, noch {s} s zum Starten",
    not_armed: "Zuerst freigeben: Das Rückspülen startet nur innerhalb einer Minute nach der Freigabe.",
    mark_done: "Als erledigt markieren",
    snooze: "Zurückstellen",
    snooze_for: "Zurückstellen für",
    days_one: "{n} Tag",
    days_other: "{n} Tage",
    more_info: "Weitere Infos",
    close: "Schließen",
    shots_since: "Bezüge seitdem",
    last_done: "Zuletzt erledigt",
    status: "Status",
    details: "{task}: {status}. Details anzeigen",
    no_machine: "Keine Espresso-Care-Maschine gefunden. Richte die Integration ein oder wähle in den Karteneinstellungen eine Maschine.",
    editor_device: "Maschine",
    editor_title: "Titel (optional)",
    seconds: "{n}\u00a0s",
  },
  nl: {
    shots_today: "Shots vandaag",
    total_shots: "Shots totaal",
    since_backflush: "sinds terugspoelen",
    of_interval: "van {n}",
    task_backflush: "Terugspoelen",
    task_clean: "Reinigen met reiniger",
    task_descale: "Ontkalken",
    due: "Nodig",
    snoozed_until: "Uitgesteld tot {when}",
    in_shots_one: "over {n} shot",
    in_shots_other: "over {n} shots",
    in_days_one: "over {n} dag",
    in_days_other: "over {n} dagen",
    in_less_than_a_day: "binnen een dag",
    recent_shots: "Laatste {n} shots",
    usual_time: "gewoonlijk {time}",
    no_shots: "Nog geen shots",
    chart_label: "Duur van de laatste {n} shots: {list}. Gebruikelijke shottijd {usual}.",
    drift: "De shottijd wijkt af: recent {recent}, gewoonlijk {usual}. Controleer maalgraad en dosis, of reinig de zetgroep.",
    machine: "Machine",
    backflush: "Terugspoelen",
    start_backflush: "Terugspoelen starten",
    confirm_title: "Automatisch terugspoelen starten?",
    confirm_text: "Plaats de blinde zeef in de filterhouder, zet die vast in de zetgroep en laat de machine aan. De pomp loopt dan een paar minuten met tussenpozen.",
    start: "Starten",
    cancel: "Annuleren",
    stop: "Stoppen",
    running: "Terugspoelen bezig",
    progress: "Voortgang terugspoelen",
    cycle: "Cyclus {n}",
    arm: "Vrijgeven",
    armed: "Vrijgegeven, nog {s} s om te starten",
    not_armed: "Geef het terugspoelen eerst vrij: het start alleen binnen een minuut na het vrijgeven.",
    mark_done: "Markeren als gedaan",
    snooze: "Uitstellen",
    snooze_for: "Uitstellen voor",
    days_one: "{n} dag",
    days_other: "{n} dagen",
    more_info: "Meer info",
    close: "Sluiten",
    shots_since: "Shots sindsdien",
    last_done: "Laatst gedaan",
    status: "Status",
    details: "{task}: {status}. Details tonen",
    no_machine: "Geen Espresso Care-machine gevonden. Stel de integratie in, of kies een machine in de instellingen van de kaart.",
    editor_device: "Machine",
    editor_title: "Titel (optioneel)",
    seconds: "{n}\u00a0s",
  },
  it: {
    shots_today: "Caffè oggi",
    total_shots: "Caffè totali",
    since_backflush: "dal controlavaggio",
    of_interval: "su {n}",
    task_backflush: "Controlavaggio",
    task_clean: "Pulizia con detergente",
    task_descale: "Decalcificazione",
    due: "Da fare",
    snoozed_until: "Rimandato fino a {when}",
    in_shots_one: "tra {n} caffè",
    in_shots_other: "tra {n} caffè",
    in_days_one: "tra {n} giorno",
    in_days_other: "tra {n} giorni",
    in_less_than_a_day: "entro un giorno",
    recent_shots: "Ultimi {n} caffè",
    usual_time: "di solito {time}",
    no_shots: "Ancora nessun caffè",
    chart_label: "Durata degli ultimi {n} caffè: {list}. Tempo di erogazione abituale {usual}.",
    drift: "Il tempo di erogazione sta cambiando: di recente {recent}, di solito {usual}. Controlla macinatura e dose, o pulisci il gruppo.",
    machine: "Macchina",
    backflush: "Controlavaggio",
    start_backflush: "Avvia controlavaggio",
    confirm_title: "Avviare il controlavaggio automatico?",
    confirm_text: "Metti il filtro cieco nel portafiltro, aggancialo al gruppo e lascia la macchina accesa. La pompa funzionerà a intervalli per alcuni minuti.",
    start: "Avvia",
    cancel: "Annulla",
    stop: "Ferma",
    running: "Controlavaggio in corso",
    progress: "Avanzamento del controlavaggio",
    cycle: "Ciclo {n}",
    arm: "Abilita",
    armed: "Abilitato, {s} s per avviare",
    not_armed: "Abilita prima il controlavaggio: parte solo entro un minuto dall'abilitazione.",
    mark_done: "Segna come fatto",
    snooze: "Rimanda",
    snooze_for: "Rimanda di",
    days_one: "{n} giorno",
    days_other: "{n} giorni",
    more_info: "Altre informazioni",
    close: "Chiudi",
    shots_since: "Caffè da allora",
    last_done: "Ultima volta",
    status: "Stato",
    details: "{task}: {status}. Mostra dettagli",
    no_machine: "Nessuna macchina Espresso Care trovata. Configura l'integrazione o scegli una macchina nelle impostazioni della scheda.",
    editor_device: "Macchina",
    editor_title: "Titolo (facoltativo)",
    seconds: "{n}\u00a0s",
  },
  fr: {
    shots_today: "Cafés aujourd'hui",
    total_shots: "Cafés au total",
    since_backflush: "depuis le rétrolavage",
    of_interval: "sur {n}",
    task_backflush: "Rétrolavage",
    task_clean: "Nettoyage au détergent",
    task_descale: "Détartrage",
    due: "À faire",
    snoozed_until: "Reporté jusqu'au {when}",
    in_shots_one: "dans {n} café",
    in_shots_other: "dans {n} cafés",
    in_days_one: "dans {n} jour",
    in_days_other: "dans {n} jours",
    in_less_than_a_day: "dans moins d'un jour",
    recent_shots: "{n} derniers cafés",
    usual_time: "habituel {time}",
    no_shots: "Pas encore de café",
    chart_label: "Durée des {n} derniers cafés : {list}. Durée habituelle {usual}.",
    drift: "La durée d'extraction dérive : récemment {recent}, habituellement {usual}. Vérifiez la mouture et la dose, ou nettoyez le groupe.",
    machine: "Machine",
    backflush: "Rétrolavage",
    start_backflush: "Lancer le rétrolavage",
    confirm_title: "Lancer le rétrolavage automatique ?",
    confirm_text: "Placez le filtre aveugle dans le porte-filtre, verrouillez-le dans le groupe et laissez la machine allumée. La pompe fonctionne ensuite par impulsions pendant quelques minutes.",
    start: "Lancer",
    cancel: "Annuler",
    stop: "Arrêter",
    running: "Rétrolavage en cours",
    progress: "Progression du rétrolavage",
    cycle: "Cycle {n}",
    arm: "Armer",
    armed: "Armé, encore {s} s pour lancer",
    not_armed: "Armez d'abord le rétrolavage : il ne démarre que dans la minute qui suit.",
    mark_done: "Marquer comme fait",
    snooze: "Reporter",
    snooze_for: "Reporter de",
    days_one: "{n} jour",
    days_other: "{n} jours",
    more_info: "Plus d'infos",
    close: "Fermer",
    shots_since: "Cafés depuis",
    last_done: "Dernière fois",
    status: "État",
    details: "{task} : {status}. Afficher les détails",
    no_machine: "Aucune machine Espresso Care trouvée. Configurez l'intégration ou choisissez une machine dans les réglages de la carte.",
    editor_device: "Machine",
    editor_title: "Titre (facultatif)",
    seconds: "{n}\u00a0s",
  },
  es: {
    shots_today: "Cafés hoy",
    total_shots: "Cafés en total",
    since_backflush: "desde el retrolavado",
    of_interval: "de {n}",
    task_backflush: "Retrolavado",
    task_clean: "Limpieza con detergente",
    task_descale: "Descalcificación",
    due: "Pendiente",
    snoozed_until: "Pospuesto hasta {when}",
    in_shots_one: "en {n} café",
    in_shots_other: "en {n} cafés",
    in_days_one: "en {n} día",
    in_days_other: "en {n} días",
    in_less_than_a_day: "en menos de un día",
    recent_shots: "Últimos {n} cafés",
    usual_time: "habitual {time}",
    no_shots: "Aún no hay cafés",
    chart_label: "Duración de los últimos {n} cafés: {list}. Tiempo habitual {usual}.",
    drift: "El tiempo de extracción está cambiando: últimamente {recent}, normalmente {usual}. Revisa la molienda y la dosis, o limpia el grupo.",
    machine: "Máquina",
    backflush: "Retrolavado",
    start_backflush: "Iniciar retrolavado",
    confirm_title: "¿Iniciar el retrolavado automático?",
    confirm_text: "Pon el filtro ciego en el portafiltro, fíjalo en el grupo y deja la máquina encendida. La bomba funcionará a intervalos durante unos minutos.",
    start: "Iniciar",
    cancel: "Cancelar",
    stop: "Detener",
    running: "Retrolavado en curso",
    progress: "Progreso del retrolavado",
    cycle: "Ciclo {n}",
    arm: "Habilitar",
    armed: "Habilitado, quedan {s} s para iniciar",
    not_armed: "Habilita primero el retrolavado: solo se inicia en el minuto siguiente.",
    mark_done: "Marcar como hecho",
    snooze: "Posponer",
    snooze_for: "Posponer",
    days_one: "{n} día",
    days_other: "{n} días",
    more_info: "Más información",
    close: "Cerrar",
    shots_since: "Cafés desde entonces",
    last_done: "Última vez",
    status: "Estado",
    details: "{task}: {status}. Mostrar detalles",
    no_machine: "No se encontró ninguna máquina de Espresso Care. Configura la integración o elige una máquina en los ajustes de la tarjeta.",
    editor_device: "Máquina",
    editor_title: "Título (opcional)",
    seconds: "{n}\u00a0s",
  },
};

function languageOf(hass) {
  const tag = String(hass?.locale?.language || hass?.language || "en").toLowerCase();
  const base = tag.split(/[-_]/)[0];
  return TEXTS[base] ? base : "en";
}

function translate(hass, key, vars = {}) {
  const table = TEXTS[languageOf(hass)];
  const text = table[key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : ""));
}

function plural(hass, key, n) {
  const rule = new Intl.PluralRules(languageOf(hass)).select(n);
  return translate(hass, `${key}_${rule === "one" ? "one" : "other"}`, { n: formatNumber(hass, n) });
}

function formatNumber(hass, value, digits = 0) {
  return new Intl.NumberFormat(hass?.locale?.language || hass?.language || "en", {
    maximumFractionDigits: digits,
  }).format(value);
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function numberState(stateObj) {
  if (!stateObj) return null;
  const value = Number(stateObj.state);
  return stateObj.state === "" || Number.isNaN(value) ? null : value;
}

/** Device ids of the espresso machines, from the entity registry. */
function machineDevices(hass) {
  const ids = [];
  for (const entry of Object.values(hass?.entities || {})) {
    if (entry.platform === DOMAIN && entry.device_id && !ids.includes(entry.device_id)) {
      ids.push(entry.device_id);
    }
  }
  return ids;
}

/** The device the card shows: its device_id, the device of its config_entry_id, or the only one. */
function resolveDevice(hass, config) {
  if (config.device_id) return config.device_id;
  const machines = machineDevices(hass);
  if (config.config_entry_id) {
    return machines.find((id) => hass.devices?.[id]?.config_entries?.includes(config.config_entry_id));
  }
  return machines[0];
}

/** The machine's entity ids by "<domain>.<translation key>" (e.g. "sensor.total_shots"). */
function machineEntities(hass, deviceId) {
  const found = {};
  for (const entry of Object.values(hass?.entities || {})) {
    if (entry.platform !== DOMAIN || entry.device_id !== deviceId || !entry.translation_key) continue;
    const domain = entry.entity_id.split(".")[0];
    found[`${domain}.${entry.translation_key}`] = entry.entity_id;
  }
  return found;
}

const STYLE = `
  :host {
    display: block;
    --ec-ok: var(--success-color, #43a047);
    --ec-warn: var(--warning-color, #ffa600);
    --ec-bad: var(--error-color, #db4437);
    --ec-accent: var(--primary-color, #03a9f4);
    --ec-muted: var(--secondary-text-color, #727272);
    --ec-track: var(--divider-color, rgba(127, 127, 127, 0.25));
  }
  ha-card { container-type: inline-size; height: 100%; box-sizing: border-box; }
  .card { padding: 16px; display: flex; flex-direction: column; gap: 14px; color: var(--primary-text-color); }
  .header { display: flex; align-items: center; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
  .title { font-size: var(--ha-card-header-font-size, 20px); font-weight: 500; line-height: 1.3; }
  .state { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 12px;
    background: var(--ec-track); font-size: 0.9em; white-space: nowrap; }
  .state[data-state="brewing"], .state[data-state="backflushing"] { background: color-mix(in srgb, var(--ec-accent) 25%, transparent); }
  .state ha-icon { --mdc-icon-size: 18px; }
  .top { display: grid; grid-template-columns: auto 1fr; gap: 16px; align-items: center; }
  .ring { position: relative; width: 104px; height: 104px; }
  .ring svg { width: 100%; height: 100%; transform: rotate(-90deg); }
  .ring .track { stroke: var(--ec-track); }
  .ring .value { stroke: var(--ec-ok); transition: stroke-dashoffset 0.4s ease; }
  .ring[data-level="near"] .value { stroke: var(--ec-warn); }
  .ring[data-level="due"] .value { stroke: var(--ec-bad); }
  .ring .center { position: absolute; inset: 0; display: flex; flex-direction: column; align-items: center;
    justify-content: center; text-align: center; line-height: 1.1; }
  .ring .big { font-size: 26px; font-weight: 600; }
  .ring .small { font-size: 11px; color: var(--ec-muted); max-width: 78px; }
  .counters { display: flex; flex-wrap: wrap; gap: 8px 24px; }
  .counter .num { font-size: 28px; font-weight: 600; line-height: 1.1; }
  .counter .label { color: var(--ec-muted); font-size: 0.9em; }
  .chips { display: flex; flex-wrap: wrap; gap: 8px; }
  button { font: inherit; color: inherit; cursor: pointer; }
  button:focus-visible, select:focus-visible { outline: 2px solid var(--ec-accent); outline-offset: 2px; }
  .chip { display: inline-flex; align-items: center; gap: 6px; border: 1px solid var(--ec-track); border-radius: 16px;
    padding: 4px 12px; background: transparent; font-size: 0.9em; text-align: left; }
  .chip ha-icon { --mdc-icon-size: 18px; color: var(--ec-muted); }
  .chip[data-status="due"] { border-color: var(--ec-bad); background: color-mix(in srgb, var(--ec-bad) 15%, transparent); }
  .chip[data-status="due"] ha-icon { color: var(--ec-bad); }
  .chip[data-status="near"] { border-color: var(--ec-warn); background: color-mix(in srgb, var(--ec-warn) 15%, transparent); }
  .chip[data-status="snoozed"] ha-icon { color: var(--ec-warn); }
  .chip .name { font-weight: 500; }
  .chart .legend { display: flex; justify-content: space-between; gap: 8px; color: var(--ec-muted); font-size: 0.85em; margin-bottom: 4px; }
  .chart svg { width: 100%; height: 56px; display: block; }
  .chart .bar { fill: var(--ec-accent); opacity: 0.85; }
  .chart .usual { stroke: var(--primary-text-color); stroke-width: 1; stroke-dasharray: 4 3; opacity: 0.7; }
  .chart .empty { color: var(--ec-muted); font-size: 0.9em; }
  .drift { display: flex; gap: 8px; align-items: flex-start; padding: 8px 12px; border-radius: 8px;
    background: color-mix(in srgb, var(--ec-warn) 18%, transparent); border-left: 4px solid var(--ec-warn); font-size: 0.9em; }
  .drift ha-icon { color: var(--ec-warn); --mdc-icon-size: 20px; flex: none; }
  .backflush { display: flex; flex-direction: column; gap: 8px; border-top: 1px solid var(--ec-track); padding-top: 12px; }
  .row { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  .primary, .secondary { border-radius: 18px; padding: 8px 16px; min-height: 36px; border: 1px solid var(--ec-accent); }
  .primary { background: var(--ec-accent); color: var(--text-primary-color, #fff); }
  .secondary { background: transparent; color: var(--ec-accent); }
  .danger { border-color: var(--ec-bad); background: var(--ec-bad); color: var(--text-primary-color, #fff); }
  button:disabled { opacity: 0.5; cursor: default; }
  .note { color: var(--ec-muted); font-size: 0.9em; }
  .armed { color: var(--ec-ok); }
  .progress { height: 8px; border-radius: 4px; background: var(--ec-track); overflow: hidden; }
  .progress > div { height: 100%; background: var(--ec-accent); width: 0; transition: width 0.4s ease; }
  .error { color: var(--ec-bad); font-size: 0.9em; }
  [hidden] { display: none !important; }
  dialog { border: none; border-radius: var(--ha-dialog-border-radius, 24px); padding: 24px; max-width: min(420px, 90vw);
    background: var(--ha-dialog-surface-background, var(--card-background-color, #fff)); color: var(--primary-text-color);
    box-shadow: 0 8px 32px rgba(0, 0, 0, 0.4); }
  dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
  dialog h2 { margin: 0 0 12px; font-size: 20px; font-weight: 500; }
  dialog p { margin: 0 0 12px; line-height: 1.45; }
  dialog dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 16px; margin: 0 0 16px; }
  dialog dt { color: var(--ec-muted); }
  dialog dd { margin: 0; }
  dialog .actions { display: flex; flex-wrap: wrap; justify-content: flex-end; gap: 8px; margin-top: 8px; }
  dialog label { display: inline-flex; align-items: center; gap: 6px; }
  dialog select { font: inherit; color: inherit; background: transparent; border: 1px solid var(--ec-track); border-radius: 8px; padding: 6px; }
  dialog select option { background: var(--card-background-color, #fff); color: var(--primary-text-color); }
  .link { border: none; background: none; color: var(--ec-accent); padding: 8px; }
  @container (max-width: 300px) {
    .top { grid-template-columns: 1fr; justify-items: center; }
    .counters { justify-content: center; text-align: center; }
    .chip { width: 100%; box-sizing: border-box; display: grid; grid-template-columns: auto 1fr; gap: 0 8px; border-radius: 12px; }
    .chip .status { grid-column: 2; color: var(--ec-muted); }
  }
`;

const TASK_ICONS = { backflush: "mdi:water-sync", clean: "mdi:spray-bottle", descale: "mdi:water-opacity" };
const STATE_ICONS = {
  off: "mdi:power-off",
  heating: "mdi:heat-wave",
  ready: "mdi:coffee-maker-check",
  brewing: "mdi:coffee",
  steaming: "mdi:kettle-steam",
  backflushing: "mdi:water-sync",
};

class EspressoCareCard extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._config = {};
    this._hass = null;
    this._signature = null;
    this._timer = null;
    this._error = "";
    this.shadowRoot.addEventListener("click", (ev) => this._onClick(ev));
  }

  static getConfigElement() {
    return document.createElement(`${CARD_TYPE}-editor`);
  }

  static getStubConfig(hass) {
    const deviceId = machineDevices(hass)[0];
    return deviceId ? { device_id: deviceId } : {};
  }

  setConfig(config) {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    this._config = { ...config };
    this._signature = null;
    if (this._hass) this._render();
  }

  set hass(hass) {
    this._hass = hass;
    this._render();
  }

  get hass() {
    return this._hass;
  }

  getCardSize() {
    return 7;
  }

  getGridOptions() {
    return { columns: 12, rows: "auto", min_columns: 6 };
  }

  connectedCallback() {
    if (this._hass) this._render();
  }

  disconnectedCallback() {
    this._stopTimer();
  }

  _t(key, vars) {
    return translate(this._hass, key, vars);
  }

  _state(key) {
    const entityId = this._entities?.[key];
    return entityId ? this._hass.states[entityId] : undefined;
  }

  _render() {
    const hass = this._hass;
    if (!hass) return;
    this._device = resolveDevice(hass, this._config);
    this._entities = this._device ? machineEntities(hass, this._device) : {};
    const signature = JSON.stringify([this._device, this._entities, languageOf(hass), this._config.title]);
    if (signature !== this._signature) {
      this._signature = signature;
      this._build();
    }
    this._update();
  }

  /** The card's skeleton for this machine and language; _update() fills it in. */
  _build() {
    const t = (key, vars) => escapeHtml(this._t(key, vars));
    const has = (key) => key in this._entities;
    const style = `<style>${STYLE}</style>`;
    if (!this._device || !Object.keys(this._entities).length) {
      this.shadowRoot.innerHTML = `${style}<ha-card><div class="card"><div class="note" role="status">${t("no_machine")}</div></div></ha-card>`;
      return;
    }
    const chips = TASKS.filter((task) => has(`sensor.shots_since_${task}`))
      .map(
        (task) => `<button class="chip" type="button" data-task="${task}" hidden>
            <ha-icon icon="${TASK_ICONS[task]}"></ha-icon>
            <span class="name">${t(`task_${task}`)}</span><span class="status"></span></button>`,
      )
      .join("");
    const backflush = has("switch.backflush")
      ? `<div class="backflush" aria-label="${t("backflush")}" role="group">
          <div class="row idle">
            <button class="primary" type="button" data-action="backflush">${t("start_backflush")}</button>
            <button class="secondary" type="button" data-action="arm" hidden>${t("arm")}</button>
            <span class="note arming" role="status" hidden></span>
          </div>
          <div class="running" hidden>
            <div class="row"><strong>${t("running")}</strong><span class="phase note"></span></div>
            <div class="progress" role="progressbar" aria-label="${t("progress")}" aria-valuemin="0" aria-valuemax="100"><div></div></div>
            <div class="row"><span class="percent"></span>
              <button class="secondary" type="button" data-action="stop">${t("stop")}</button></div>
          </div>
          <div class="error" role="alert" hidden></div>
        </div>`
      : "";
    this.shadowRoot.innerHTML = `${style}
      <ha-card>
        <div class="card">
          <div class="header">
            <div class="title"></div>
            <div class="state" hidden title="${t("machine")}"><ha-icon></ha-icon><span></span></div>
          </div>
          <div class="top">
            <div class="ring" role="img" ${has("sensor.shots_since_backflush") ? "" : "hidden"}>
              <svg viewBox="0 0 100 100" aria-hidden="true">
                <circle class="track" cx="50" cy="50" r="44" fill="none" stroke-width="9"></circle>
                <circle class="value" cx="50" cy="50" r="44" fill="none" stroke-width="9" stroke-linecap="round"
                  stroke-dasharray="276.46" stroke-dashoffset="276.46"></circle>
              </svg>
              <div class="center" aria-hidden="true"><span class="big"></span><span class="small"></span></div>
            </div>
            <div class="counters">
              <div class="counter" data-counter="shots_today"><div class="num"></div><div class="label">${t("shots_today")}</div></div>
              <div class="counter" data-counter="total_shots"><div class="num"></div><div class="label">${t("total_shots")}</div></div>
            </div>
          </div>
          <div class="drift" role="status" hidden><ha-icon icon="mdi:timer-alert-outline"></ha-icon><span></span></div>
          <div class="chips">${chips}</div>
          <div class="chart">
            <div class="legend"><span class="recent"></span><span class="usual-label"></span></div>
            <svg viewBox="0 0 200 56" preserveAspectRatio="none" role="img"></svg>
            <div class="empty" hidden>${t("no_shots")}</div>
          </div>
          ${backflush}
        </div>
      </ha-card>
      <dialog class="confirm" aria-labelledby="confirm-title">
        <h2 id="confirm-title">${t("confirm_title")}</h2>
        <p>${t("confirm_text")}</p>
        <div class="actions">
          <button class="secondary" type="button" data-action="cancel">${t("cancel")}</button>
          <button class="primary" type="button" data-action="confirm">${t("start")}</button>
        </div>
      </dialog>
      <dialog class="task" aria-labelledby="task-title">
        <h2 id="task-title"></h2>
        <dl></dl>
        <div class="row snooze" hidden>
          <label>${t("snooze_for")}
            <select>${SNOOZE_DAYS.map((n) => `<option value="${n}">${escapeHtml(plural(this._hass, "days", n))}</option>`).join("")}</select>
          </label>
          <button class="secondary" type="button" data-action="snooze">${t("snooze")}</button>
        </div>
        <div class="error" role="alert" hidden></div>
        <div class="actions">
          <button class="link" type="button" data-action="more-info">${t("more_info")}</button>
          <button class="secondary" type="button" data-action="close">${t("close")}</button>
          <button class="primary" type="button" data-action="mark-done">${t("mark_done")}</button>
        </div>
      </dialog>`;
  }

  _update() {
    const root = this.shadowRoot;
    const hass = this._hass;
    if (!root.querySelector(".card .top")) return;
    const $ = (selector) => root.querySelector(selector);
    const device = hass.devices?.[this._device];
    $(".title").textContent = this._config.title || device?.name_by_user || device?.name || "Espresso Care";

    // Machine state.
    const machine = this._state("sensor.machine_state");
    const stateBox = $(".state");
    stateBox.hidden = !machine;
    if (machine) {
      stateBox.dataset.state = machine.state;
      stateBox.querySelector("ha-icon").setAttribute("icon", STATE_ICONS[machine.state] || "mdi:coffee-maker");
      stateBox.querySelector("span").textContent = this._formatState(machine);
      stateBox.setAttribute("aria-label", `${this._t("machine")}: ${this._formatState(machine)}`);
    }

    // Counters.
    for (const key of ["shots_today", "total_shots"]) {
      const box = root.querySelector(`[data-counter="${key}"]`);
      const stateObj = this._state(`sensor.${key}`);
      box.hidden = !stateObj;
      const value = numberState(stateObj);
      box.querySelector(".num").textContent = value === null ? "–" : formatNumber(hass, value);
      box.dataset.value = value === null ? "" : String(value);
    }

    this._updateRing($(".ring"));
    for (const chip of root.querySelectorAll(".chip")) this._updateChip(chip);
    this._updateChart($(".chart"));

    // Drift warning.
    const drift = this._state("binary_sensor.shot_time_drift");
    const driftBox = $(".drift");
    driftBox.hidden = drift?.state !== "on";
    if (drift?.state === "on") {
      driftBox.querySelector("span").textContent = this._t("drift", {
        recent: this._seconds(drift.attributes.recent_duration),
        usual: this._seconds(drift.attributes.baseline_duration),
      });
    }

    this._updateBackflush(root.querySelector(".backflush"));
    if (root.querySelector("dialog.task").open) this._fillTaskDialog();
  }

  _formatState(stateObj) {
    return this._hass.formatEntityState ? this._hass.formatEntityState(stateObj) : stateObj.state;
  }

  _seconds(value) {
    const n = Number(value);
    return value === null || value === undefined || Number.isNaN(n) ? "–" : this._t("seconds", { n: formatNumber(this._hass, n, 1) });
  }

  /** "due", "snoozed", "near" or "ok" of a task, with the text its chip shows. */
  _taskStatus(task) {
    const due = this._state(`binary_sensor.${task}_due`);
    const since = this._state(`sensor.shots_since_${task}`);
    const attrs = since?.attributes || {};
    const until = due?.attributes?.snoozed_until;
    const shotsLeft = attrs.shots_remaining;
    const daysLeft = attrs.days_remaining;
    const hasShots = typeof shotsLeft === "number";
    const hasDays = typeof daysLeft === "number";
    if (due?.state === "on") return { level: "due", text: this._t("due") };
    if (until && new Date(until) > new Date()) {
      return { level: "snoozed", text: this._t("snoozed_until", { when: this._formatTime(until) }) };
    }
    if (!hasShots && !hasDays) return { level: "off", text: "" };
    const parts = [];
    if (hasShots) parts.push(plural(this._hass, "in_shots", shotsLeft));
    if (hasDays) {
      parts.push(daysLeft < 1 ? this._t("in_less_than_a_day") : plural(this._hass, "in_days", Math.floor(daysLeft)));
    }
    const interval = hasShots ? shotsLeft + (numberState(since) || 0) : null;
    const near =
      (hasShots && interval > 0 && shotsLeft <= Math.max(1, Math.ceil(interval * NEAR_DUE_SHARE))) ||
      (hasDays && daysLeft < 1);
    return { level: near ? "near" : "ok", text: parts.join(" · ") };
  }

  _formatTime(iso) {
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return String(iso);
    return new Intl.DateTimeFormat(this._hass.locale?.language || "en", {
      dateStyle: "medium",
      timeStyle: "short",
      timeZone: this._hass.locale?.time_zone === "server" ? this._hass.config?.time_zone : undefined,
    }).format(when);
  }

  _updateRing(ring) {
    const since = this._state("sensor.shots_since_backflush");
    if (!since) return;
    const value = numberState(since) ?? 0;
    const shotsLeft = since.attributes.shots_remaining;
    const interval = typeof shotsLeft === "number" ? value + shotsLeft : null;
    const status = this._taskStatus("backflush");
    const level = status.level === "due" ? "due" : status.level === "near" || status.level === "snoozed" ? "near" : "ok";
    ring.dataset.level = level;
    ring.dataset.value = String(value);
    const share = interval ? Math.min(1, value / interval) : 0;
    const circle = ring.querySelector(".value");
    const length = 2 * Math.PI * 44;
    circle.setAttribute("stroke-dashoffset", String(length * (1 - share)));
    ring.querySelector(".big").textContent = formatNumber(this._hass, value);
    const small = interval ? `${this._t("of_interval", { n: formatNumber(this._hass, interval) })} ${this._t("since_backflush")}` : this._t("since_backflush");
    ring.querySelector(".small").textContent = small;
    ring.setAttribute(
      "aria-label",
      `${formatNumber(this._hass, value)} ${small}${status.text ? `, ${this._t("task_backflush")}: ${status.text}` : ""}`,
    );
  }

  _updateChip(chip) {
    const task = chip.dataset.task;
    const status = this._taskStatus(task);
    chip.hidden = status.level === "off";
    chip.dataset.status = status.level;
    chip.querySelector(".status").textContent = status.text;
    chip.setAttribute("aria-label", this._t("details", { task: this._t(`task_${task}`), status: status.text }));
    chip.setAttribute("aria-haspopup", "dialog");
  }

  _updateChart(chart) {
    const average = this._state("sensor.average_shot_duration");
    const drift = this._state("binary_sensor.shot_time_drift");
    const raw = average?.attributes?.recent_durations;
    const durations = (Array.isArray(raw) ? raw : []).map(Number).filter((d) => Number.isFinite(d)).slice(-10);
    const usual = Number(drift?.attributes?.baseline_duration ?? numberState(average));
    const svg = chart.querySelector("svg");
    const empty = !durations.length;
    chart.querySelector(".empty").hidden = !empty;
    svg.style.display = empty ? "none" : "";
    chart.querySelector(".recent").textContent = empty ? "" : this._t("recent_shots", { n: durations.length });
    chart.querySelector(".usual-label").textContent =
      Number.isFinite(usual) && usual > 0 ? this._t("usual_time", { time: this._seconds(usual) }) : "";
    chart.dataset.durations = durations.join(",");
    if (empty) return;
    const top = Math.max(...durations, Number.isFinite(usual) ? usual : 0) * 1.15;
    const slot = 200 / 10;
    const bars = durations
      .map((d, i) => {
        const h = Math.max(1, (d / top) * 56);
        const x = (10 - durations.length + i) * slot + 3;
        return `<rect class="bar" x="${x}" y="${56 - h}" width="${slot - 6}" height="${h}" rx="2"><title>${escapeHtml(this._seconds(d))}</title></rect>`;
      })
      .join("");
    const line =
      Number.isFinite(usual) && usual > 0
        ? `<line class="usual" x1="0" x2="200" y1="${56 - (usual / top) * 56}" y2="${56 - (usual / top) * 56}" vector-effect="non-scaling-stroke"></line>`
        : "";
    svg.innerHTML = bars + line;
    svg.setAttribute(
      "aria-label",
      this._t("chart_label", {
        n: durations.length,
        list: durations.map((d) => this._seconds(d)).join(", "),
        usual: this._seconds(usual),
      }),
    );
  }

  _updateBackflush(box) {
    if (!box) return;
    const progress = this._state("sensor.backflush_progress");
    const attrs = progress?.attributes || {};
    const running = attrs.routine === "running" || this._state("switch.backflush")?.state === "on";
    box.querySelector(".idle").hidden = running;
    box.querySelector(".running").hidden = !running;
    const errorBox = box.querySelector(".error");
    errorBox.hidden = !this._error;
    errorBox.textContent = this._error;
    if (running) {
      this._stopTimer();
      const percent = numberState(progress) ?? 0;
      const bar = box.querySelector(".progress");
      bar.setAttribute("aria-valuenow", String(percent));
      bar.firstElementChild.style.width = `${percent}%`;
      box.querySelector(".percent").textContent = `${formatNumber(this._hass, percent)} %`;
      const phase = [];
      if (attrs.cycle) phase.push(this._t("cycle", { n: attrs.cycle }));
      if (attrs.step) phase.push(this._formatAttribute(progress, "step"));
      else if (attrs.phase) phase.push(this._formatAttribute(progress, "phase"));
      box.querySelector(".phase").textContent = phase.join(" · ");
      return;
    }
    const start = box.querySelector('[data-action="backflush"]');
    const arm = box.querySelector('[data-action="arm"]');
    const note = box.querySelector(".arming");
    const switchState = this._state("switch.backflush");
    const unavailable = !switchState || switchState.state === "unavailable";
    const needsArming = attrs.require_arming === true && "button.arm_backflush" in this._entities;
    const left = attrs.armed_until ? Math.ceil((new Date(attrs.armed_until) - Date.now()) / 1000) : 0;
    const armed = left > 0;
    arm.hidden = !needsArming || armed;
    note.hidden = !needsArming;
    note.classList.toggle("armed", armed);
    note.textContent = armed ? this._t("armed", { s: left }) : this._t("not_armed");
    start.disabled = unavailable || (needsArming && !armed);
    if (needsArming && armed) this._startTimer();
    else this._stopTimer();
  }

  _formatAttribute(stateObj, name) {
    const hass = this._hass;
    return hass.formatEntityAttributeValue
      ? hass.formatEntityAttributeValue(stateObj, name)
      : String(stateObj.attributes[name]);
  }

  _startTimer() {
    if (!this._timer) this._timer = setInterval(() => this._update(), 1000);
  }

  _stopTimer() {
    if (this._timer) clearInterval(this._timer);
    this._timer = null;
  }

  get _entryId() {
    const device = this._hass.devices?.[this._device];
    return this._config.config_entry_id || device?.primary_config_entry || device?.config_entries?.[0];
  }

  async _call(domain, service, data, errorBox) {
    try {
      await this._hass.callService(domain, service, data);
      return true;
    } catch (err) {
      const message = err?.message || String(err);
      if (errorBox) {
        errorBox.textContent = message;
        errorBox.hidden = false;
      }
      return false;
    }
  }

  _onClick(ev) {
    const target = ev.target.closest("button");
    if (!target) return;
    const root = this.shadowRoot;
    const confirm = root.querySelector("dialog.confirm");
    const taskDialog = root.querySelector("dialog.task");
    if (target.classList.contains("chip")) {
      this._openTask(target.dataset.task);
      return;
    }
    switch (target.dataset.action) {
      case "backflush":
        this._error = "";
        confirm.showModal();
        root.querySelector('[data-action="confirm"]').focus();
        break;
      case "cancel":
        confirm.close();
        break;
      case "confirm":
        confirm.close();
        this._runBackflush("start_backflush");
        break;
      case "stop":
        this._runBackflush("stop_backflush");
        break;
      case "arm":
        this._call("button", "press", { entity_id: this._entities["button.arm_backflush"] }, root.querySelector(".backflush .error"));
        break;
      case "close":
        taskDialog.close();
        break;
      case "mark-done":
        this._markDone();
        break;
      case "snooze":
        this._snooze();
        break;
      case "more-info": {
        const entityId = this._entities[`binary_sensor.${this._task}_due`] || this._entities[`sensor.shots_since_${this._task}`];
        taskDialog.close();
        this.dispatchEvent(new CustomEvent("hass-more-info", { detail: { entityId }, bubbles: true, composed: true }));
        break;
      }
      default:
    }
  }

  async _runBackflush(service) {
    this._error = "";
    const box = this.shadowRoot.querySelector(".backflush .error");
    box.hidden = true;
    const ok = await this._call(DOMAIN, service, { config_entry_id: this._entryId }, box);
    if (!ok) this._error = box.textContent;
  }

  _openTask(task) {
    this._task = task;
    const dialog = this.shadowRoot.querySelector("dialog.task");
    dialog.querySelector(".error").hidden = true;
    this._fillTaskDialog();
    dialog.showModal();
    dialog.querySelector('[data-action="mark-done"]').focus();
  }

  _fillTaskDialog() {
    const task = this._task;
    const dialog = this.shadowRoot.querySelector("dialog.task");
    const since = this._state(`sensor.shots_since_${task}`);
    const lastDone = this._state(`sensor.${task}_last_done`);
    const status = this._taskStatus(task);
    dialog.querySelector("h2").textContent = this._t(`task_${task}`);
    const rows = [[this._t("status"), status.text]];
    if (since) rows.push([this._t("shots_since"), formatNumber(this._hass, numberState(since) ?? 0)]);
    if (lastDone && !["unknown", "unavailable"].includes(lastDone.state)) rows.push([this._t("last_done"), this._formatTime(lastDone.state)]);
    dialog.querySelector("dl").innerHTML = rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("");
    dialog.dataset.status = status.level;
    dialog.querySelector('[data-action="mark-done"]').hidden = !this._entities[`button.mark_${task}_done`];
    // Snooze only when the action exists (and a due sensor to show it on).
    const canSnooze = Boolean(this._hass.services?.[DOMAIN]?.snooze) && `binary_sensor.${task}_due` in this._entities;
    dialog.querySelector(".snooze").hidden = !canSnooze;
  }

  async _markDone() {
    const dialog = this.shadowRoot.querySelector("dialog.task");
    const ok = await this._call("button", "press", { entity_id: this._entities[`button.mark_${this._task}_done`] }, dialog.querySelector(".error"));
    if (ok) dialog.close();
  }

  async _snooze() {
    const dialog = this.shadowRoot.querySelector("dialog.task");
    const days = Number(dialog.querySelector("select").value);
    const ok = await this._call(
      DOMAIN,
      "snooze",
      { config_entry_id: this._entryId, task: this._task, duration: { days } },
      dialog.querySelector(".error"),
    );
    if (ok) dialog.close();
  }
}

class EspressoCareCardEditor extends HTMLElement {
  constructor() {
    super();
    this._config = {};
  }

  setConfig(config) {
    this._config = { ...config };
    this._update();
  }

  set hass(hass) {
    this._hass = hass;
    this._update();
  }

  async connectedCallback() {
    // ha-form is loaded lazily by the frontend; an entities card editor brings it along.
    if (!customElements.get("ha-form") && window.loadCardHelpers) {
      const helpers = await window.loadCardHelpers();
      const card = await helpers.createCardElement({ type: "entities", entities: [] });
      await card.constructor.getConfigElement?.();
    }
    this._update();
  }

  _update() {
    if (!this._hass) return;
    if (!this._form) {
      this._form = document.createElement("ha-form");
      this._form.computeLabel = (schema) => translate(this._hass, schema.name === "device_id" ? "editor_device" : "editor_title");
      this._form.addEventListener("value-changed", (ev) => {
        const config = { ...this._config, ...ev.detail.value };
        for (const key of Object.keys(config)) if (config[key] === "" || config[key] === undefined) delete config[key];
        this._config = config;
        this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
      });
      this.appendChild(this._form);
    }
    this._form.hass = this._hass;
    this._form.data = this._config;
    this._form.schema = [
      { name: "device_id", required: true, selector: { device: { integration: DOMAIN } } },
      { name: "title", selector: { text: {} } },
    ];
  }
}

if (!customElements.get(CARD_TYPE)) customElements.define(CARD_TYPE, EspressoCareCard);
if (!customElements.get(`${CARD_TYPE}-editor`)) customElements.define(`${CARD_TYPE}-editor`, EspressoCareCardEditor);

window.customCards = window.customCards || [];
if (!window.customCards.some((card) => card.type === CARD_TYPE)) {
  window.customCards.push({
    type: CARD_TYPE,
    name: "Espresso Care",
    description: "Shots, maintenance and the automated backflush of an espresso machine.",
    preview: true,
    documentationURL: "https://github.com/espresso-care/espresso_care#dashboard",
  });
}
