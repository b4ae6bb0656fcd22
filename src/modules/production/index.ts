// The production module's door for other modules.
export { cancelProductionOrderForSale, createProductionOrderForSale } from './production.service.js';
