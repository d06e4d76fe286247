package demo

// The name tables the generator draws from. They are constants in spirit:
// nothing writes to them. The places are fictional compositions of real
// French (Breton, Norman, Gallo) toponymy, and the people are those whose
// names French schools really carry, so the directory reads like a real one
// without copying any real row.

// The fictional territory. Its codes are syntactically valid but used by no
// real organization, so the national directory can be imported beside it
// later without a clash: no académie or région is numbered 90, no
// département 099 (INSEE keeps 99 for foreign countries, whose codes start at
// 99100, above our communes 99001–99040), and SIREN numbers starting 2499
// would name EPCIs of a département 99 that does not exist.
const (
	regionCode      = "90"
	regionName      = "Région Armor-Argoat"
	departementCode = "099"
	departementName = "Val-de-Brume"
	academyCode     = "90"
	academyName     = "Académie de Brocéliande"
	// academyShort is the académie as the national school calendar names
	// it (the "location" of each holiday period).
	academyShort = "Brocéliande"
	dsdenName    = "DSDEN du Val-de-Brume"
	daneName     = "DANE de l'académie de Brocéliande"
	epciCode     = "249900002" // a Luhn-valid SIREN
	chefLieuName = "Brumeval"
	epciName     = "Brumeval Métropole"
	holidayZone  = "B"
	// mailDomain is reserved by RFC 2606: establishment addresses look real
	// but no mail sent by a later feature (notifications, mail-in) can
	// reach anybody.
	mailDomain = "ac-broceliande.example"
	// phonePrefix is the block ARCEP reserves for fiction in the north-west
	// (02 61 91 xx xx), so no demo number rings a real phone.
	phonePrefix = "02 61 91"
)

// The box the département lies in: inland Brittany, between the Rance and
// the forest of Paimpont. Longitude degrees are shorter than latitude ones
// at this latitude (cos 48° ≈ 0.67), which distance computations correct.
const (
	minLat, maxLat = 48.05, 48.62
	minLon, maxLon = -2.80, -1.55
	centreLat      = 48.34
	centreLon      = -2.15
	lonScale       = 0.67
)

// Breton compounds: Plou- (parish), Ker- (village), Lan- (hermitage),
// Tré- (hamlet), Loc- (holy place), Guer- (town).
var bretonPrefixes = []string{"Plou", "Plé", "Ker", "Lan", "Tré", "Loc", "Guer", "Pen", "Lanvel", "Treff"}
var bretonRoots = []string{"brume", "ven", "goat", "hallec", "lédan", "morvan", "gast", "nevez", "bihan",
	"guern", "dern", "hoët", "elan", "glas", "aven", "radec", "mabon", "vézec", "gonvel", "trieux"}

var saints = []string{"Saint-Méen", "Saint-Aubin", "Saint-Gildas", "Saint-Armel", "Saint-Gondran", "Saint-Léry",
	"Saint-Onen", "Saint-Pern", "Saint-Thual", "Sainte-Anne", "Saint-Brice", "Saint-Judoce", "Saint-Maugan",
	"Saint-Uniac", "Saint-Senoux", "Sainte-Brigitte", "Saint-Malon", "Saint-Péran"}

var articleNames = []string{"La Chapelle", "La Roche", "Le Pertre", "Le Theil", "Les Forges", "La Noë", "Le Verger",
	"La Bouëxière", "Le Quiou", "La Trinité", "La Lande", "Le Pont", "La Fontenelle", "Le Tronchet"}

// Norman names in -ville (a Frankish estate).
var normanRoots = []string{"Tour", "Angou", "Amfre", "Hébé", "Gréau", "Brique", "Beuze", "Colle", "Octe", "Valde"}

var placeSuffixes = []string{"-sur-Rance", "-en-Bocage", "-la-Forêt", "-des-Landes", "-le-Vieux", "-sur-Brume",
	"-sur-Meu", "-du-Lac", "-les-Bois", "-en-Argoat", "-la-Lande", "-sur-Aff"}

// Streets every French town has.
var streetNames = []string{"rue de la Gare", "rue Jules Ferry", "avenue de la Libération", "rue du Général de Gaulle",
	"place de l'Église", "rue de la Mairie", "rue des Écoles", "route de Brumeval", "chemin des Korrigans",
	"rue du Stade", "allée des Tilleuls", "rue de la Fontaine", "rue du Moulin", "rue Victor Hugo",
	"boulevard de la République", "rue Pasteur", "rue Anatole France", "impasse des Ajoncs", "rue de Verdun",
	"rue du Calvaire", "rue des Lilas", "rue de la Poste", "rue du Lavoir", "place du Marché", "rue Saint-Michel",
	"avenue Jean Jaurès", "rue des Camélias", "rue de Bretagne", "rue des Genêts", "rue de la Vallée"}

// The priority neighbourhoods of the chef-lieu (quartiers prioritaires):
// the REP+ and REP networks are drawn there, as in most préfectures.
var priorityAreas = []priorityArea{
	{Name: "Kerhallet", Priority: "REP+", DLat: 0.011, DLon: -0.021,
		Streets: []string{"place de Kerhallet", "rue de Kerhallet", "allée Xavier Grall", "rue Angela Duval"}},
	{Name: "Les Hauts-de-Brume", Priority: "REP", DLat: -0.014, DLon: 0.019,
		Streets: []string{"boulevard des Hauts-de-Brume", "rue des Hortensias", "square Pablo Picasso", "rue Paul Langevin"}},
}

// People and places école names are made of.
var ecoleNames = []string{"Jules Ferry", "Jean Moulin", "Louise Michel", "Victor Hugo", "Jacques Prévert",
	"Marie Curie", "Paul Éluard", "Jean Jaurès", "Simone Veil", "Anne Frank", "Jean de La Fontaine", "Robert Desnos",
	"Marcel Pagnol", "Antoine de Saint-Exupéry", "George Sand", "Colette", "Charles Perrault", "Jules Verne",
	"Paul Fort", "Françoise Dolto", "Lucie Aubrac", "Condorcet", "Pauline Kergomard", "Max Jacob", "Anatole Le Braz",
	"Théodore Botrel", "Per-Jakez Hélias", "Les Petits Princes", "Le Petit Prince", "Les Hirondelles",
	"Les Coquelicots", "La Source", "Les Mouettes", "Les Goélands", "Les Quatre Vents", "Les Genêts",
	"Les Ajoncs", "Le Moulin", "Les Tilleuls", "Du Bourg", "Le Chat Perché", "Les Korrigans", "La Clé des Champs",
	"Les Marronniers", "Albert Camus", "Henri Matisse", "Claude Monet", "Jean Rostand", "Pierre Perret", "Le Bois Joli"}

var privateEcoleNames = []string{"Sainte-Anne", "Notre-Dame", "Saint-Joseph", "Sainte-Thérèse", "Saint-Michel",
	"Jeanne d'Arc", "Sacré-Cœur", "Immaculée Conception", "Saint-Yves", "Saint-Gabriel", "Sainte-Marie", "Saint-Martin"}

var collegeNames = []string{"Anne de Bretagne", "Jean Monnet", "Les Korrigans", "Albert Camus", "Paul Féval",
	"La Tour d'Auvergne", "Émile Zola", "Louis Guilloux", "Jean Rostand", "Pierre de Coubertin", "Théodore Monod",
	"Germaine Tillion", "Françoise Giroud", "Jacques Cartier", "Surcouf", "Brocéliande", "Le Querrien", "Les Gayeulles",
	"Du Guesclin", "Val de Brume"}

var privateCollegeNames = []string{"Saint-Joseph", "Notre-Dame", "Sainte-Marie", "Saint-Gabriel", "Saint-Vincent", "Jean-Paul II"}

var lyceeNames = []string{"Chateaubriand", "Renée Vautier", "Ernest Renan", "Bertrand d'Argentré", "Jean Guéhenno",
	"Joliot-Curie", "Anita Conti", "La Fontaine des Eaux"}

var privateLyceeNames = []string{"Saint-Vincent", "Notre-Dame du Roc", "Saint-Martin"}

// schoolYears are the years with enrolment figures, oldest first. Fixed
// rather than computed from the clock, so that two runs give the same data.
var schoolYears = []string{"2022-2023", "2023-2024", "2024-2025", "2025-2026", "2026-2027"}
