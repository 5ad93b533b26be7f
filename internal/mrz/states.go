package mrz

import "strings"

// states are the codes ICAO Doc 9303 Part 3 (Eighth Edition, 2021),
// Section 5, allows for the issuing state or organisation and for
// nationality: the ISO 3166-1 alpha-3 codes of states and territories
// (officially assigned, as of ISO 3166-1:2020), except Germany, which is
// "D"; and the codes 9303 adds for the British nationality categories,
// the United Nations and other organisations, the European Union,
// stateless persons, refugees and unspecified nationality.
var states = func() map[string]bool {
	iso := `ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR BHR BHS
BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL COM CPV CRI CUB CUW
CXR CYM CYP CZE DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN
GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY
JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX
MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN
PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV
SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA
UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE`
	icao := `D GBD GBN GBO GBP GBS UNO UNA UNK XBA XIM XCC XCE XCO XEC XPO XES XMP XOM XDC EUE XXA XXB XXC XXX`
	m := map[string]bool{}
	for _, c := range strings.Fields(iso + " " + icao) {
		m[c] = true
	}
	return m
}()

// KnownState reports whether code (fillers removed) is a code ICAO 9303
// Part 3 lists for a state, organisation or nationality category. The
// fictitious "UTO" of 9303's own examples is not one.
func KnownState(code string) bool { return states[code] }

// UnlistedCodes names the country fields ("issuingState", "nationality")
// that hold a code not on ICAO 9303's list: either the OCR misread it, or
// the document is a specimen or uses a code the standard does not. An
// empty field (all fillers) is not a code and not named.
func (m *MRZ) UnlistedCodes() []string {
	var out []string
	if m.IssuingState != "" && !KnownState(m.IssuingState) {
		out = append(out, "issuingState")
	}
	if m.Nationality != "" && !KnownState(m.Nationality) {
		out = append(out, "nationality")
	}
	return out
}
