package loaders

// CreditSource is what the credit loaders batch.
type CreditSource interface{}

// CreditLoaders batch the credit reads of the Customer 360.
type CreditLoaders struct{}

func newCreditLoaders(src CreditSource, opts ...dataloadgenOption) *CreditLoaders {
	return &CreditLoaders{}
}
