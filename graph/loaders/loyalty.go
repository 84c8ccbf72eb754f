package loaders

// LoyaltySource is what the loyalty loaders batch.
type LoyaltySource interface{}

// LoyaltyLoaders batch the loyalty reads of the Customer 360.
type LoyaltyLoaders struct{}

func newLoyaltyLoaders(src LoyaltySource, opts ...dataloadgenOption) *LoyaltyLoaders {
	return &LoyaltyLoaders{}
}
