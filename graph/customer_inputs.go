package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"customerservice/customers"
	"customerservice/graph/model"
)

// The GraphQL inputs of the customer and address mutations as the domain's inputs. An
// omitted field and a null one differ only in updates (omitted keeps, null clears).

func newCustomer(in model.CreateCustomerInput) customers.NewCustomer {
	return customers.NewCustomer{
		CustomerType:      in.CustomerType.Value(),
		FirstName:         in.FirstName,
		LastName:          in.LastName,
		Email:             in.Email.Value(),
		Phone:             in.Phone.Value(),
		DocumentType:      in.DocumentType.Value(),
		DocumentNumber:    in.DocumentNumber.Value(),
		BirthDate:         in.BirthDate.Value(),
		Gender:            in.Gender.Value(),
		PreferredLanguage: in.PreferredLanguage.Value(),
		MarketingConsent:  in.MarketingConsent.Value(),
		Tags:              in.Tags.Value(),
		Metadata:          in.Metadata.Value(),
		Notes:             in.Notes.Value(),
		ExternalID:        in.ExternalID.Value(),
	}
}

func customerChanges(in model.UpdateCustomerInput) customers.CustomerChanges {
	return customers.CustomerChanges{
		CustomerType:      patch(in.CustomerType),
		FirstName:         patch(in.FirstName),
		LastName:          patch(in.LastName),
		Email:             patch(in.Email),
		Phone:             patch(in.Phone),
		DocumentType:      patch(in.DocumentType),
		DocumentNumber:    patch(in.DocumentNumber),
		BirthDate:         patch(in.BirthDate),
		Gender:            patch(in.Gender),
		PreferredLanguage: patch(in.PreferredLanguage),
		MarketingConsent:  patch(in.MarketingConsent),
		Tags:              patch(in.Tags),
		Metadata:          patch(in.Metadata),
		Notes:             patch(in.Notes),
		ExternalID:        patch(in.ExternalID),
	}
}

func newAddress(in model.AddAddressInput) customers.NewAddress {
	isDefault := in.IsDefault.Value()
	return customers.NewAddress{
		AddressType:   in.AddressType.Value(),
		RecipientName: in.RecipientName.Value(),
		AddressLine1:  in.AddressLine1,
		AddressLine2:  in.AddressLine2.Value(),
		City:          in.City,
		State:         in.State.Value(),
		PostalCode:    in.PostalCode.Value(),
		Country:       in.Country.Value(),
		Phone:         in.Phone.Value(),
		IsDefault:     isDefault != nil && *isDefault,
	}
}

func addressChanges(in model.UpdateAddressInput) customers.AddressChanges {
	return customers.AddressChanges{
		AddressType:   patch(in.AddressType),
		RecipientName: patch(in.RecipientName),
		AddressLine1:  patch(in.AddressLine1),
		AddressLine2:  patch(in.AddressLine2),
		City:          patch(in.City),
		State:         patch(in.State),
		PostalCode:    patch(in.PostalCode),
		Country:       patch(in.Country),
		Phone:         patch(in.Phone),
	}
}

func patch[T any](o graphql.Omittable[T]) customers.Patch[T] {
	return customers.Patch[T]{Set: o.IsSet(), Value: o.Value()}
}
