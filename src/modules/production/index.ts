// The production module's door for other modules.
export { createProductionOrderForSale } from './production.service.js';
