package customers

import "customerservice/models"

// FilterAddresses keeps the addresses usable as kind (nil: any) and, unless includeInactive,
// only active ones. The input is one customer's addresses as the loader returns them.
func FilterAddresses(all []models.Address, kind *models.AddressType, includeInactive bool) []models.Address {
	out := make([]models.Address, 0, len(all))
	for _, a := range all {
		if !includeInactive && !a.IsActive {
			continue
		}
		if kind != nil && *kind != models.AddressTypeBoth && !a.AddressType.Serves(*kind) {
			continue
		}
		if kind != nil && *kind == models.AddressTypeBoth && a.AddressType != models.AddressTypeBoth {
			continue
		}
		out = append(out, a)
	}
	return out
}

// DefaultAddress is the active default address usable as kind (shipping or billing), if any.
func DefaultAddress(all []models.Address, kind models.AddressType) *models.Address {
	for i := range all {
		if a := &all[i]; a.IsActive && a.IsDefault && a.AddressType.Serves(kind) {
			return a
		}
	}
	return nil
}
