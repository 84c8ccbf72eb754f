package seed

// The vocabulary of the synthetic customers: Panamanian given names and surnames, companies,
// and the towns and streets of their addresses.

type givenName struct {
	name   string
	gender string
}

var givenNames = []givenName{
	{"José", "male"}, {"María", "female"}, {"Luis", "male"}, {"Ana", "female"}, {"Carlos", "male"},
	{"Carmen", "female"}, {"Juan", "male"}, {"Rosa", "female"}, {"Jorge", "male"}, {"Yamileth", "female"},
	{"Ricardo", "male"}, {"Itzel", "female"}, {"Rubén", "male"}, {"Yariela", "female"}, {"Omar", "male"},
	{"Anayansi", "female"}, {"Édgar", "male"}, {"Marisol", "female"}, {"Iván", "male"}, {"Lourdes", "female"},
	{"Ramón", "male"}, {"Dayana", "female"}, {"Héctor", "male"}, {"Katherine", "female"}, {"Andrés", "male"},
	{"Mónica", "female"}, {"Raúl", "male"}, {"Gisela", "female"}, {"Víctor", "male"}, {"Xiomara", "female"},
	{"Abdiel", "male"}, {"Yessenia", "female"}, {"Joel", "male"}, {"Nathalie", "female"}, {"Eduardo", "male"},
	{"Zuleika", "female"}, {"Ángel", "male"}, {"Milagros", "female"}, {"Rogelio", "male"}, {"Elvia", "female"},
	{"Julio", "male"}, {"Sofía", "female"}, {"Mateo", "male"}, {"Valentina", "female"}, {"Sebastián", "male"},
	{"Lucía", "female"}, {"Tomás", "male"}, {"Isabella", "female"}, {"Martín", "male"}, {"Camila", "female"},
	{"Aníbal", "male"}, {"Maribel", "female"}, {"Efraín", "male"}, {"Yaneth", "female"}, {"Moisés", "male"},
	{"Iris", "female"}, {"Darío", "male"}, {"Noemí", "female"}, {"Ismael", "male"}, {"Beatriz", "female"},
}

var surnames = []string{
	"Pérez", "Núñez", "Castillo", "González", "Rodríguez", "Hernández", "Martínez", "Sánchez",
	"Díaz", "Jiménez", "Ramírez", "Vásquez", "Morales", "Ríos", "Herrera", "Batista", "Barría",
	"Quintero", "Saldaña", "Ábrego", "Caballero", "Chérigo", "De León", "Fuentes", "Guerra",
	"Jaén", "Méndez", "Ortega", "Pinzón", "Samaniego", "Solís", "Tejada", "Vega", "Villarreal",
	"Espinosa", "Arosemena", "Arias", "Cedeño", "Domínguez", "Frías", "Muñoz", "Peña", "Ibáñez",
	"Gómez", "Araúz", "Delgado", "Rosas", "Castrellón", "Aguilar", "Córdoba", "Marín", "Atencio",
	"Bernal", "Carrasco", "Del Cid", "Escobar", "Montenegro", "Osorio", "Sáez", "Valdés",
}

var companyKinds = []string{
	"Distribuidora", "Inversiones", "Comercial", "Importadora", "Grupo", "Ferretería",
	"Farmacia", "Constructora", "Servicios Logísticos", "Supermercado", "Panadería", "Agroindustrias",
}

var legalForms = []string{"S.A.", "S.A.", "S.A.", "S. de R.L.", "Corp.", "Inc."}

var emailDomains = []string{"gmail.com", "gmail.com", "hotmail.com", "yahoo.com", "outlook.com", "cwpanama.net"}

type town struct {
	city, state string
	weight      int
	streets     []string
}

var towns = []town{
	{"Panamá", "Panamá", 40, []string{"Vía España", "Calle 50", "Avenida Balboa", "Vía Argentina",
		"Calle Uruguay", "Avenida Samuel Lewis", "Vía Porras", "Calle 74, San Francisco",
		"Avenida Centenario, Costa del Este", "Calle Aquilino de la Guardia", "Vía Israel"}},
	{"San Miguelito", "Panamá", 10, []string{"Vía Domingo Díaz", "Calle Principal, Los Andes 2", "Vía Simón Bolívar"}},
	{"La Chorrera", "Panamá Oeste", 8, []string{"Avenida de las Américas", "Calle Larga", "Barrio Colón"}},
	{"Colón", "Colón", 10, []string{"Avenida Bolívar, Calle 11", "Avenida Roosevelt", "Calle 5, Barrio Norte", "Zona Libre, Calle 16"}},
	{"David", "Chiriquí", 12, []string{"Avenida Obaldía", "Calle Central", "Avenida 3 de Noviembre", "Barrio San Mateo"}},
	{"Boquete", "Chiriquí", 3, []string{"Avenida Central", "Bajo Boquete, Calle 3"}},
	{"Chitré", "Herrera", 8, []string{"Avenida Herrera", "Calle Manuel María Correa", "Paseo Enrique Geenzier"}},
	{"Santiago", "Veraguas", 5, []string{"Avenida Central", "Calle 10", "Barrio San Martín"}},
	{"Las Tablas", "Los Santos", 2, []string{"Calle Belisario Porras", "Avenida Laureano López"}},
	{"Penonomé", "Coclé", 2, []string{"Vía Interamericana", "Calle Damián Carles"}},
}

var landmarks = []string{
	"Frente al Super 99", "Al lado de la Farmacia Arrocha", "Entrada por la garita",
	"Cerca de la iglesia", "Detrás del Banco General", "Diagonal al parque",
}

var customerTags = []string{
	"newsletter", "app-movil", "tienda-fisica", "compra-online", "cumpleañero", "referido",
	"feria-2025", "black-friday",
}

var businessTags = []string{"mayorista", "corporativo", "factura-electronica", "cuenta-clave"}

var notes = []string{
	"Prefiere entregas en la tarde.",
	"Cliente frecuente de la sucursal de Albrook.",
	"Solicitar factura con RUC.",
	"Llamar antes de entregar.",
	"Prefiere comunicación por WhatsApp.",
}

var inactiveReasons = []string{"Sin compras en más de dos años", "Se mudó al extranjero", "Pidió no ser contactado"}

var blockedReasons = []string{"Contracargos repetidos", "Fraude con tarjeta reportado", "Uso indebido de promociones"}

var channels = []string{"store", "web", "app", "phone"}

var rewards = []string{
	"Canje por cupón de descuento", "Canje en tienda", "Canje por envío gratis", "Canje por tarjeta de regalo",
}

var suspensionReasons = []string{
	"Pagos atrasados más de 60 días", "Cheque devuelto", "Revisión de estados financieros pendiente",
}
